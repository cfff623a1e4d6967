import type { ChatEvent } from '../../chat/events';
import type { Delivery } from '../../chat/bus';
import type { Link } from './link';

type Roster = Extract<ChatEvent, { readonly type: 'roster' }>;

/**
 * This node's roster, from the recovery that published it until it is back: read from the stream,
 * it says that the node rejoined (`rejoined`); lost with Redis, it is handed out here, after
 * `bus-down`, so that the state holds this node's users as the roster listed them, not as the
 * cluster's state it was restored from did (some of whom left meanwhile).
 */
export class OwnRoster {
  private awaited: Roster | undefined;

  constructor(private readonly link: Link) {}

  /** Published at a recovery: awaited back. */
  published(roster: Roster): void {
    this.awaited = roster;
  }

  /**
   * What an event read from the stream is handed out as. A roster of an earlier recovery, written
   * before Redis went again and read after this one, is not the one awaited: its `at` tells.
   */
  read(event: ChatEvent): Delivery {
    if (event.type !== 'roster' || event.node !== this.link.node || event.at !== this.awaited?.at) return event;
    this.awaited = undefined;
    return { type: 'rejoined', roster: event };
  }

  /** At an outage, once it is told: a roster still awaited is handed out here alone. */
  down(): void {
    const roster = this.awaited;
    this.awaited = undefined;
    if (roster !== undefined) this.link.out.next(roster);
  }
}
