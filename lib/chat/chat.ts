import { asyncScheduler, defer, finalize, merge, mergeMap, type Observable, type SchedulerLike } from 'rxjs';
import { decide } from './decide';
import type { Connection, Outgoing } from './outgoing';
import { render } from './render';
import { type Seat, session, type SessionOptions } from './session';

/**
 * The chat: every connection's session merged into one stream, with every event on the bus
 * applied to `state` (the one reduction of the chat) and rendered for its viewers. When a
 * logged-in user's session ends (input ended or errored, `/quit`, a failed write ends it too),
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
    const rendered$ = bus.events$.pipe(mergeMap((event) => render(event, state.apply(event))));
    const leave = (user: string) => {
      for (const event of decide(state, { type: 'leave', user, at: scheduler.now() }).events) bus.publish(event);
    };
    const follow = (connection: Connection) =>
      session(connection, seat, options, scheduler).pipe(finalize(() => leave(connection.id)));
    return merge(rendered$, connections$.pipe(mergeMap(follow))); // the state applies before any session reads it
  });
}
