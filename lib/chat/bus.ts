import type { Observable } from 'rxjs';
import type { ChatEvent } from './events';

/** Where every process's events meet, in one order that every process reads alike. The chat
 * defines this port; lib/bus implements it (in memory, on Redis). */
export interface Bus {
  /**
   * Offers an event; it takes effect when it comes back on `events$`, here as on every node. Every
   * event comes back: in the bus's order, or, when the bus cannot carry it, on this node alone.
   */
  publish(event: ChatEvent): void;
  /** All events, in the bus's order. Never errors: an outage is an event of its own. */
  readonly events$: Observable<ChatEvent>;
  /** On a cluster's bus, this node: the prefix of its users' ids. None on the bus of one process. */
  readonly node?: string;
}
