import { type ModerationLoaded, nodeOf, type RosterUser } from '../../chat/events';
import { redisProblem } from '../redis-problem';
import type { Link } from './link';
import type { Liveness } from './liveness';
import type { OwnRoster } from './own-roster';
import type { Replay } from './replay';
import type { Snapshots } from './snapshots';
import type { Writer } from './writer';

/** How long a node whose rejoining failed, its connection still up, waits before trying again. */
const RECOVER_RETRY_MS = 1_000;

/** The mechanisms a recovery moves. */
export interface Recovered {
  readonly liveness: Liveness;
  readonly snapshots: Snapshots;
  readonly replay: Replay;
  readonly writer: Writer;
  readonly roster: OwnRoster;
}

/**
 * Outages and recoveries: when Redis goes, `bus-down` is handed out and this node serves alone;
 * when it is back, the node begins again from the latest snapshot (`restored`), with what the
 * cluster's store holds of moderation read anew, says who its users are (its roster, as the
 * chat's state, which held them alone, lists them), and reads on from there, what it showed
 * before replayed and not shown.
 */
export class Recovery {
  private recovering = false;
  private readyAgain = false;
  private everUp = false;
  private retry: NodeJS.Timeout | undefined;

  /** `joined`: called at each recovery done, the first one being what `ready` waits for. */
  constructor(private readonly link: Link, private readonly parts: Recovered, private readonly joined: () => void) {}

  readonly recover = async (): Promise<void> => {
    const { link } = this;
    // One at a time: a 'ready' that comes while a recovery awaits (a close and a quick
    // reconnect) would otherwise restore the state twice and publish two rosters. It is kept
    // for after, in case this one fails on the connection that closed.
    if (link.closed || link.up || !link.reading) return;
    if (this.recovering) {
      this.readyAgain = true;
      return;
    }
    this.recovering = true;
    try {
      await this.rejoin();
    } catch (err) {
      link.log(`bus: could not rejoin the cluster yet: ${redisProblem(err)}`);
      // No other 'ready' may come (Redis answered the connection, not the commands): try again.
      if (!link.closed && link.commands.status === 'ready') this.retry = setTimeout(() => void this.recover(), RECOVER_RETRY_MS);
    } finally {
      this.recovering = false;
      if (this.readyAgain) {
        this.readyAgain = false;
        void this.recover();
      }
    }
  };

  /** Redis is out of reach: told once per loss of it, and what was queued for it happens here. */
  readonly down = (): void => {
    const { link } = this;
    if (!link.up) return;
    link.up = false;
    link.generation += 1;
    this.parts.liveness.alive = 1;
    this.parts.replay.down();
    link.log('bus: Redis is out of reach; serving this node alone');
    link.out.next({ type: 'bus-down', node: link.node, at: Date.now() });
    this.parts.roster.down();
    this.parts.writer.down(); // after the notice and the roster: from them on, the chat shows what happens here alone
  };

  /** Stops trying again. */
  stop(): void {
    clearTimeout(this.retry);
  }

  private async rejoin(): Promise<void> {
    const { link, parts } = this;
    await parts.liveness.heartbeat();
    await parts.liveness.rejoining();
    const snapshot = await parts.snapshots.load();
    const replaying = await parts.replay.upTo(snapshot.id);
    // Read after the snapshot: the store then holds the changes whose events are before it (each
    // saved as its maker applied it, bar one still on its way), and those after are read again.
    const loaded = await this.reload();
    // The reload may wait for the store's own connection; lost again meanwhile, the next 'ready' recovers.
    if (link.closed || !link.reading || link.commands.status !== 'ready') return;
    const users = this.ownUsers(); // before the cluster's state replaces them
    link.generation += 1;
    link.lastId = snapshot.id;
    parts.snapshots.restoredFrom(snapshot);
    link.up = true;
    // A roster, even empty, when the cluster's state holds users of this node: those it lost leave.
    const rejoining = users.length > 0 || snapshot.state.users.some((user) => nodeOf(user.id) === link.node);
    link.out.next({ type: 'restored', node: link.node, state: snapshot.state, rejoining, at: Date.now() });
    if (rejoining) {
      const roster = { type: 'roster', node: link.node, users, at: Date.now() } as const;
      parts.roster.published(roster);
      parts.writer.publish(roster);
    }
    parts.replay.start(replaying);
    if (loaded !== undefined) link.out.next(loaded);
    if (this.everUp) link.log('bus: Redis is back');
    this.everUp = true;
    await parts.liveness.reap().catch((err: unknown) => link.log(`bus: could not look for lost nodes: ${redisProblem(err)}`)); // now, not at the next tick: a ready node knows its cluster
    this.joined();
  }

  /** This node's users as the chat's state holds them now. */
  private ownUsers(): readonly RosterUser[] {
    const answer = this.link.ask({ type: 'roster' });
    return answer?.type === 'roster' ? answer.users : [];
  }

  private async reload(): Promise<ModerationLoaded | undefined> {
    try {
      return await this.link.options.reload();
    } catch (err) {
      this.link.log(`bus: kept this node's moderation, could not reload it: ${redisProblem(err)}`);
      return undefined;
    }
  }
}
