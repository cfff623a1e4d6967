import { asyncScheduler, defer, finalize, merge, mergeMap, type Observable, type SchedulerLike } from 'rxjs';
import { decide } from './decide';
import { type ChatEvent, nodeOf, type UserId } from './events';
import type { Connection, Outgoing } from './outgoing';
import { render } from './render';
import { expand } from './roster';
import { type Joins, type Seat, type SessionOptions, sessions } from './session';
import { BUS_UP } from './texts';

/**
 * The chat: every connection's session merged into one stream, with every event on the bus
 * applied to `state` (the one reduction of the chat) and rendered for its viewers; an event that
 * changes nothing (a name claimed first elsewhere, a departure already seen) shows nothing. When
 * a logged-in user's session ends (input ended or errored, `/quit`, a failed write ends it too),
 * its `finalize` publishes the departure, whichever way it ended, and the state lets them go
 * when it comes back. `state` must be new and used by this subscription alone.
 * Never completes by itself, since a leave can come as long as anyone is connected: the server
 * ends it by unsubscribing, which stops every session; their departures then reach no one
 * here. Never errors on a user's behalf.
 */
export function chat(
  connections$: Observable<Connection>,
  seat: Seat,
  options: SessionOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<Outgoing> {
  return defer(() => {
    const { state, bus } = seat;
    const joins: Joins = new Map(); // sessions whose join has not come back from the bus yet
    let rejoining: string | undefined; // this node, back from an outage, until its roster comes back
    const take = (event: ChatEvent): Outgoing[] => {
      if (event.type === 'roster' && event.node === rejoining) return [...rejoined(event), ...expand(event, state).flatMap(take)];
      if (event.type === 'node-lost' || event.type === 'roster') return expand(event, state).flatMap(take);
      if (event.type === 'restored') return restore(event);
      const shown = state.apply(event).applied ? render(event, state) : [];
      if (event.type === 'joined') settle(event.user, state.applied);
      return shown;
    };
    const settle = (user: UserId, applied: boolean) => {
      const waiting = joins.get(user);
      joins.delete(user);
      waiting?.(applied);
    };
    // The cluster's state replaces this node's; its users are put back by a roster on the bus.
    const restore = (event: Extract<ChatEvent, { type: 'restored' }>): Outgoing[] => {
      const mine = state.members().filter((user) => nodeOf(user.id) === event.node);
      state.apply(event);
      const held = state.members().some((user) => nodeOf(user.id) === event.node);
      if (mine.length > 0 || held) {
        const users = mine.map(({ id, nick, room, connectedAt, from }) => ({ id, nick, room, connectedAt, from }));
        bus.publish({ type: 'roster', node: event.node, users, at: scheduler.now() });
        rejoining = event.rejoined ? event.node : undefined;
      }
      return [];
    };
    // Told once they are back in the state: what they type from then on reaches the cluster.
    const rejoined = (event: Extract<ChatEvent, { type: 'roster' }>): Outgoing[] => {
      rejoining = undefined;
      const rooms = new Set(event.users.map((user) => user.room));
      return [...rooms].map((room) => ({ kind: 'broadcast', room, text: BUS_UP, hiddenFrom: [] }));
    };
    const leave = (user: UserId) => {
      if (joins.has(user)) joins.set(user, (applied) => applied && leave(user)); // gone before its join came back
      else for (const event of decide(state, { type: 'leave', user, at: scheduler.now() }).events) bus.publish(event);
    };
    const open = sessions({ ...seat, joins }, options, scheduler);
    const follow = (connection: Connection) => {
      const { id } = connection; // the departure holds the id alone, not the connection and its input$
      return open(connection).pipe(finalize(() => leave(id)));
    };
    return merge(bus.events$.pipe(mergeMap(take)), connections$.pipe(mergeMap(follow))); // the state applies before any session reads it
  });
}
