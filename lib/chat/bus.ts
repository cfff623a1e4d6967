import type { Observable } from 'rxjs';
import type { ChatEvent, RosterUser, StateData } from './events';
import type { HistoryChanges } from './state';

/** Where every process's events meet, in one order that every process reads alike. */
export interface Bus {
  /**
   * Offers an event; it takes effect when it comes back on `events$`, here as on every node. Every
   * event comes back: in the bus's order, or, when the bus cannot carry it, on this node alone.
   */
  publish(event: ChatEvent): void;
  /**
   * All events, in the bus's order, with what the bus says of this node's link to the others
   * between them. Never errors: an outage is a signal of its own.
   */
  readonly events$: Observable<Delivery>;
  /** On a cluster's bus, this node: the prefix of its users' ids. None on the bus of one process. */
  readonly node?: string;
  /** Takes the chat's answer to the question the bus asks now (`asked`), read from its state at that point of the bus. */
  answer?(answer: StateAnswer): void;
}

/** What a bus hands out: an event of the chat, or a signal of the bus's own. */
export type Delivery = ChatEvent | BusSignal;

/**
 * What a cluster's bus says of this node's link to the others, in its place among the events.
 * Signals never travel: each node's bus makes its own. The bus keeps where it stands (up, apart,
 * replaying, rejoining); the chat applies what each signal says to its state, and tells its users.
 */
export type BusSignal =
  // The others are out of reach: this node's users chat among themselves. Each drop of the bus says it.
  | { readonly type: 'bus-down'; readonly node: string; readonly at: number }
  // The bus is back: `state` is the cluster's. When `rejoining`, this node's roster follows, and its
  // users are back in the state once it comes (`rejoined`); else it had nobody to list.
  | { readonly type: 'restored'; readonly node: string; readonly state: StateData; readonly rejoining: boolean; readonly at: number }
  // An event this node applied before (and showed, and logged): applied again, to rebuild the state, and nothing more.
  | { readonly type: 'replayed'; readonly event: ChatEvent }
  // This node's roster, published at `restored`, came back: its users are back among the others.
  | { readonly type: 'rejoined'; readonly roster: Extract<ChatEvent, { readonly type: 'roster' }> }
  // The bus asks what it needs of the state, now: the chat answers at once, with `answer`.
  | { readonly type: 'asked'; readonly question: StateQuestion };

/** What a cluster's bus asks of the state. */
export type StateQuestion =
  // This node's users, for its roster, before the cluster's state replaces this node's.
  | { readonly type: 'roster' }
  // What a snapshot holds: the state but for the histories, and the histories changed after `since`.
  | { readonly type: 'snapshot'; readonly since: number };

/** The chat's answer, as values: nothing in it is the state itself. */
export type StateAnswer =
  | { readonly type: 'roster'; readonly users: readonly RosterUser[] }
  | { readonly type: 'snapshot'; readonly outline: StateData; readonly changes: HistoryChanges };
