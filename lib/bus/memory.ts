import { type Observable, Subject } from 'rxjs';
import type { Bus } from '../chat/bus';
import type { ChatEvent } from '../chat/events';

/** The bus of one process, which hands out events alone: it has no other nodes to lose. */
export interface MemoryBus extends Bus {
  readonly events$: Observable<ChatEvent>;
}

/**
 * The bus of a single process: the room Subject itself. An event comes back on `events$` inside
 * `publish`, so whoever publishes sees its effect on the state before `publish` returns.
 * Completes never; what is published while nobody subscribes is gone.
 */
export function memoryBus(): MemoryBus {
  const room = new Subject<ChatEvent>();
  return { publish: (event) => room.next(event), events$: room.asObservable() };
}
