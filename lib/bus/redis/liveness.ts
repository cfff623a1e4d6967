import type { ChatEvent } from '../../chat/events';
import type { Link } from './link';

/** How often a node says it is alive. */
export const HEARTBEAT_MS = 3_000;
/** How long a node's word that it is alive holds: a node silent this long is dead. */
export const NODE_TTL_MS = 10_000;
/** How often each node looks for dead ones. With the two above, a death is seen within 12 s. */
export const REAP_EVERY_MS = 2_000;
/** How long a dead node's reaping is claimed: the one node that claims it announces the departures. */
const REAPED_TTL_SECONDS = 60;

/**
 * Which nodes are alive: each says so with a heartbeat that expires, and each looks for those
 * silent too long; the one node that claims a dead one's reaping says on the bus that it is lost.
 */
export class Liveness {
  /** The nodes alive at the last look, this one included: 1 while Redis is out of reach. */
  alive = 1;
  private readonly unreaped = new Set<string>(); // dead nodes whose loss was not written: reaped again on rejoining

  constructor(private readonly link: Link, private readonly publish: (event: ChatEvent) => void) {}

  /** Says this node is alive, and one of the cluster's nodes. */
  async heartbeat(): Promise<void> {
    const { commands, keys, node } = this.link;
    await commands.set(keys.node(node), '1', 'PX', NODE_TTL_MS);
    await commands.sadd(keys.nodes, node);
  }

  /** A heartbeat unanswered says Redis is out of reach even when nobody types. */
  readonly beat = (): Promise<void> => this.heartbeat().catch((err: unknown) => {
    this.link.rejoin();
    throw err;
  });

  /** A dead node whose loss Redis did not take: looked for again on rejoining. */
  unwritten(node: string): void {
    this.unreaped.add(node);
  }

  /** Rejoining: this node may have been reaped while away, and the losses it could not write are looked for again. */
  async rejoining(): Promise<void> {
    const { commands, keys, node } = this.link;
    await commands.del(keys.reaped(node)); // reaped while away: a later death must be reaped again
    for (const lost of this.unreaped) {
      await commands.del(keys.reaped(lost));
      await commands.sadd(keys.nodes, lost);
      this.unreaped.delete(lost);
    }
  }

  /** Counts the nodes alive and says which are lost, each once in the cluster. */
  readonly reap = async (): Promise<void> => {
    const { commands, keys } = this.link;
    let alive = 1; // this node
    for (const node of await commands.smembers(keys.nodes)) {
      if (node === this.link.node) continue;
      if ((await commands.exists(keys.node(node))) === 1) {
        alive += 1;
        continue;
      }
      const claimed = await commands.set(keys.reaped(node), '1', 'EX', REAPED_TTL_SECONDS, 'NX');
      await commands.srem(keys.nodes, node);
      if (claimed === 'OK') this.publish({ type: 'node-lost', node, at: Date.now() });
    }
    if (this.link.up) this.alive = alive;
  };

  /** Says this node leaves the cluster, for a node that stops. */
  async leave(): Promise<void> {
    const { commands, keys, node } = this.link;
    await Promise.allSettled([commands.del(keys.node(node)), commands.srem(keys.nodes, node)]);
  }
}
