import { Subject } from 'rxjs';
import type { ChatEvent } from '../chat/events';
import type { Bus } from '../chat/bus';

/**
 * The bus of a single process: the room Subject itself. An event comes back on `events$` inside
 * `publish`, so whoever publishes sees its effect on the state before `publish` returns.
 * Completes never; what is published while nobody subscribes is gone.
 */
export function memoryBus(): Bus {
  const room = new Subject<ChatEvent>();
  return { publish: (event) => room.next(event), events$: room.asObservable() };
}
