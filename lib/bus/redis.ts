import { Observable } from 'rxjs';
import type { Bus, Delivery, StateAnswer } from '../chat/bus';
import type { ClusterHealth } from './health';
import { Link } from './redis/link';
import { HEARTBEAT_MS, Liveness, REAP_EVERY_MS } from './redis/liveness';
import type { RedisBusOptions } from './redis/options';
import { Reader, type Reading } from './redis/reader';
import { OwnRoster } from './redis/own-roster';
import { Recovery } from './redis/recovery';
import { Replay } from './redis/replay';
import { RELEASE_LEASE } from './redis/scripts';
import { SNAPSHOT_EVERY_MS, Snapshots } from './redis/snapshots';
import { Writer } from './redis/writer';
import { redisProblem } from './redis-problem';

/**
 * How long a starting node's bus waits for the cluster's state before it serves alone (until
 * Redis comes). The data store has reached Redis by then (a node does not start without it), so
 * this bounds only a Redis lost in between.
 */
export const FIRST_CONNECT_WAIT_MS = 5_000;

/** A bus on Redis, which a node closes on shutdown once its last events are written. */
export interface RedisBus extends Bus {
  readonly node: string;
  answer(answer: StateAnswer): void;
  /** How this node sees the cluster now. */
  health(): ClusterHealth;
  /**
   * Resolves once the node has the cluster's state, or has waited FIRST_CONNECT_WAIT_MS for it
   * from the first subscription to `events$`; or once closed.
   */
  readonly ready: Promise<void>;
  /**
   * Says on the bus that this node's users leave with it, as a node-lost of its own, so that the
   * rooms they empty keep their history. For a node about to stop, before its sessions end (their
   * own departures then change nothing). While Redis is out of reach nobody would hear it, and
   * this node must not: it does nothing.
   */
  leave(): void;
  /** Writes what was published, stops heartbeats, leaves the cluster; resolves once disconnected. */
  close(): Promise<void>;
}

/**
 * The bus of a cluster: events are appended to one Redis Stream, which gives them one order, and
 * come back to every node (this one too) from a blocking read of it. A node that starts or gets
 * Redis back begins from the latest snapshot (`restored`), publishes its roster, and reads on
 * from there; what it handed out before comes again as `replayed`. While Redis is out of reach,
 * `bus-down` is handed out and events go round this node alone, as do those Redis would not
 * take. Entries that are not events are logged and skipped. What it needs of the state (this
 * node's users, a snapshot) it asks (`asked`), and the chat answers with values (`answer`).
 * `events$` never errors or completes. Its first subscription starts the read loop, the recovery,
 * the heartbeats, the reaping and the snapshots; its last one's end stops them (the snapshot is
 * the state of whoever reads, which follows the stream no longer), and a later one begins again
 * from the cluster's state. What this node publishes is written until `close()`.
 */
export function redisBus(options: RedisBusOptions): RedisBus {
  const link = new Link(options);
  const replay = new Replay(link);
  const liveness: Liveness = new Liveness(link, (event) => writer.publish(event));
  const writer = new Writer(link, (node) => liveness.unwritten(node));
  const snapshots = new Snapshots(link);
  const roster = new OwnRoster(link);
  const reader = new Reader(link, writer, replay, roster);
  let joined = () => {};
  let waitFirst = () => {};
  const ready = new Promise<void>((resolve) => {
    let wait: NodeJS.Timeout | undefined;
    waitFirst = () => { wait ??= setTimeout(resolve, FIRST_CONNECT_WAIT_MS); };
    joined = () => {
      clearTimeout(wait);
      resolve();
    };
  });
  const recovery = new Recovery(link, { liveness, snapshots, replay, writer, roster }, () => joined());

  /** Runs `task` every `ms` while the bus is up; a failure is logged as what could not be done. */
  const every = (ms: number, task: () => Promise<unknown>, what: string) =>
    setInterval(() => {
      if (link.up) task().catch((err: unknown) => link.log(`bus: could not ${what}: ${redisProblem(err)}`));
    }, ms);

  let readers = 0;
  let reading: Reading = { on: false };
  let timers: NodeJS.Timeout[] = [];
  const start = () => {
    link.reading = true;
    reading = { on: true };
    void reader.run(reading);
    link.commands.on('ready', recovery.recover).on('close', recovery.down);
    timers = [every(HEARTBEAT_MS, liveness.beat, 'send the heartbeat'), every(REAP_EVERY_MS, liveness.reap, 'look for lost nodes'), every(SNAPSHOT_EVERY_MS, () => snapshots.save(), 'save a snapshot')];
    waitFirst();
    if (link.commands.status === 'ready') void recovery.recover();
  };
  const stop = () => {
    if (!link.reading) return;
    link.reading = false;
    reading.on = false;
    timers.forEach(clearInterval);
    link.commands.off('ready', recovery.recover).off('close', recovery.down);
    recovery.stop();
    link.up = false; // nobody follows the stream now: a next reader begins from the cluster's state
    link.generation += 1;
  };
  const events$ = new Observable<Delivery>((subscriber) => {
    const handing = link.out.subscribe(subscriber);
    if (++readers === 1) start();
    return () => {
      handing.unsubscribe();
      if (--readers === 0) stop();
    };
  });

  const leave = () => {
    if (link.up) writer.publish({ type: 'node-lost', node: link.node, at: Date.now() });
  };

  const close = async () => {
    joined();
    stop();
    await writer.flush();
    const { commands, keys, node } = link;
    // The lease let go: another node writes the snapshots from its next turn, not once it expires.
    if (commands.status === 'ready') await Promise.allSettled([liveness.leave(), commands.eval(RELEASE_LEASE, 1, keys.lease, node)]);
    link.closed = true;
    link.reader.disconnect();
    if (commands.status === 'ready') await commands.quit().catch(() => commands.disconnect());
    else commands.disconnect(); // a quit would fail at once: Redis is out of reach
  };

  const health = () => ({ busUp: link.up, nodes: liveness.alive });
  return { publish: writer.publish, events$, node: link.node, answer: link.answer, ready, health, leave, close };
}
