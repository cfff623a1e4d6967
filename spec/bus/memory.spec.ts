import type { ChatEvent } from '../../lib/chat/events';
import { memoryBus } from '../../lib/bus/memory';
import { scheduler } from '../support/marbles';

const events: Record<string, ChatEvent> = {
  a: { type: 'joined', user: 'u1', nick: 'ann', room: '#main', at: 0 },
  b: { type: 'said', user: 'u1', nick: 'ann', room: '#main', text: 'hi', at: 1 },
  c: { type: 'away', user: 'u1', reason: 'lunch', at: 2 },
  d: { type: 'left', user: 'u1', nick: 'ann', room: '#main', at: 3 },
};

describe('memoryBus', () => {
  it('hands every published event back on events$, in order, to every subscriber', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = memoryBus();
      hot('             a-b-c-d', events).subscribe((event) => bus.publish(event));
      const expected = 'a-b-c-d';
      expectObservable(bus.events$).toBe(expected, events);
      expectObservable(bus.events$).toBe(expected, events);
    });
  });

  it('loses what is published while nobody subscribes, and never completes', () => {
    scheduler().run(({ hot, expectObservable }) => {
      const bus = memoryBus();
      hot('                 a-b-c-d', events).subscribe((event) => bus.publish(event));
      const subscription = '---^-!';
      const expected = '    ----c--';
      expectObservable(bus.events$, subscription).toBe(expected, events);
    });
  });

  it('hands an event back before publish returns', () => {
    const bus = memoryBus();
    const seen: ChatEvent[] = [];
    const subscription = bus.events$.subscribe((event) => seen.push(event));
    bus.publish(events.a!);
    expect(seen).toEqual([events.a]);
    bus.publish(events.b!);
    expect(seen).toEqual([events.a, events.b]);
    subscription.unsubscribe();
    bus.publish(events.c!);
    expect(seen).toEqual([events.a, events.b]);
  });

  it('hands an event published from a subscriber after the one being handed out', () => {
    const bus = memoryBus();
    const seen: string[] = [];
    const subscription = bus.events$.subscribe((event) => {
      seen.push(event.type);
      if (event.type === 'joined') bus.publish(events.b!);
    });
    bus.publish(events.a!);
    expect(seen).toEqual(['joined', 'said']);
    subscription.unsubscribe();
  });
});
