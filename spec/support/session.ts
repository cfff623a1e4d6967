import { asyncScheduler, mergeMap, Observable, type SchedulerLike } from 'rxjs';
import type { Delivery } from '../../lib/chat/bus';
import { type ChatEvent, isOwnChange } from '../../lib/chat/events';
import { Gate } from '../../lib/chat/gate';
import { type Seat, serving } from '../../lib/chat/loop';
import type { Connection } from '../../lib/chat/connection';
import type { Outgoing } from '../../lib/chat/outgoing';
import type { SessionOptions } from '../../lib/chat/session-options';
import { ChatState } from '../../lib/chat/state';

/** The bus's signals of a cluster's link, which no event is. */
const SIGNALS: ReadonlySet<string> = new Set(['bus-down', 'restored', 'rejoined', 'replayed', 'asked']);
const isEvent = (delivery: Delivery): delivery is ChatEvent => !SIGNALS.has(delivery.type);

/**
 * One connection served by the chat's loop, without rendering: what its session sends its user,
 * and each event on the seat's bus once the state the seat makes applied it (and its user's session was
 * told of an own change back), in the order they happen. Completes when the session does.
 */
export function session(connection: Connection, seat: Seat, options: SessionOptions, scheduler: SchedulerLike = asyncScheduler): Observable<Outgoing | ChatEvent> {
  return new Observable<Outgoing | ChatEvent>((subscriber) => {
    const state = seat.newState?.() ?? new ChatState();
    const loop = serving(seat, state, new Gate(), options, scheduler);
    const events = seat.bus.events$.subscribe((delivery) => {
      if (!isEvent(delivery)) return; // the bus of one process signals nothing
      const event = delivery;
      const applied = state.apply(event);
      if (isOwnChange(event)) loop.landed(event.user, applied, 0);
      subscriber.next(event);
    });
    subscriber.add(events);
    subscriber.add(loop.open(connection).pipe(mergeMap(loop.handle)).subscribe(subscriber));
  });
}
