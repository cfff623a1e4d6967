import { asyncScheduler, defer, finalize, merge, mergeMap, type Observable, type SchedulerLike } from 'rxjs';
import { decide } from './decide';
import { type ChatEvent, isOwnChange, nodeOf, type UserId } from './events';
import type { Connection, Outgoing } from './outgoing';
import { render } from './render';
import { expand } from './roster';
import { type Landing, type Seat, type SessionOptions, sessions, type Waiter, type Waits } from './session';
import { BUS_UP } from './texts';

/**
 * The chat: every connection's session merged into one stream, with every event on the bus
 * applied to `state` (the one reduction of the chat) and rendered for its viewers; an event that
 * changes nothing (a name claimed first elsewhere, a departure already seen) shows nothing. When
 * a logged-in user's session ends (input ended or errored, `/quit`, a failed write ends it too),
 * its `finalize` publishes the departure, whichever way it ended, and the state lets them go
 * when it comes back. A session whose user's own change (a login, `/join`, `/nick`...) is on its
 * way waits in `waits` until it is back, the bus goes down or restores this node, or the bus
 * could not take it; a departure meanwhile is decided once it is over, on the state it left.
 * `state` must be new and used by this subscription alone.
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
    const waits: Waits = new Map(); // who waits for an own change of their user to come back
    let rejoining: string | undefined; // this node, back from an outage, until its roster comes back
    const take = (event: ChatEvent): Outgoing[] => {
      if (event.type === 'roster' && event.node === rejoining) return [...rejoined(event), ...expand(event, state).flatMap(take)];
      if (event.type === 'node-lost' || event.type === 'roster') return expand(event, state).flatMap(take);
      if (event.type === 'restored') return restore(event);
      if (event.type === 'unsent') return unsent(event.event);
      const shown = state.apply(event).applied ? render(event, state) : [];
      if (waits.size > 0) settle(event);
      return shown;
    };
    const settle = (event: ChatEvent) => {
      if (isOwnChange(event)) land(event.user, state.applied ? 'applied' : 'unapplied');
      else if (event.type === 'bus-down') releaseAll(); // what was on its way may never come back
    };
    const land = (user: UserId, landing: Landing) => {
      const waiter = waits.get(user);
      waits.delete(user);
      waiter?.landed(landing);
    };
    const releaseAll = () => {
      const waiting = [...waits.values()];
      waits.clear();
      for (const waiter of waiting) waiter.landed('unheard');
    };
    const unsent = (event: ChatEvent): Outgoing[] => {
      if (isOwnChange(event)) land(event.user, 'unheard');
      return [];
    };
    // The cluster's state replaces this node's; its users are put back by a roster on the bus.
    const restore = (event: Extract<ChatEvent, { type: 'restored' }>): Outgoing[] => {
      const mine = state.members().filter((user) => nodeOf(user.id) === event.node);
      state.apply(event);
      const held = state.members().some((user) => nodeOf(user.id) === event.node);
      if (mine.length > 0 || held) {
        const users = mine.map(({ id, nick, room, connectedAt }) => ({ id, nick, room, connectedAt }));
        bus.publish({ type: 'roster', node: event.node, users, at: scheduler.now() });
        rejoining = event.rejoined ? event.node : undefined;
      }
      releaseAll(); // read from the snapshot on: what was on its way may be behind it
      return [];
    };
    // Told once they are back in the state: what they type from then on reaches the cluster.
    const rejoined = (event: Extract<ChatEvent, { type: 'roster' }>): Outgoing[] => {
      rejoining = undefined;
      const rooms = new Set(event.users.map((user) => user.room));
      return [...rooms].map((room) => ({ kind: 'broadcast', room, text: BUS_UP, hiddenFrom: [] }));
    };
    const leave = (user: UserId) => {
      if (waits.has(user)) waits.set(user, departure(user)); // its user's own change is on its way: its room and name are the change's
      else for (const event of decide(state, { type: 'leave', user, at: scheduler.now() }).events) bus.publish(event);
    };
    const departure = (user: UserId): Waiter => ({ landed: () => leave(user) }); // decided then: nothing if the join never applied
    const open = sessions({ ...seat, waits }, options, scheduler);
    const follow = (connection: Connection) => {
      const { id } = connection; // the departure holds the id alone, not the connection and its input$
      return open(connection).pipe(finalize(() => leave(id)));
    };
    return merge(bus.events$.pipe(mergeMap(take)), connections$.pipe(mergeMap(follow))); // the state applies before any session reads it
  });
}
