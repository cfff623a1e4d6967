import { asyncScheduler, concat, filter, map, merge, mergeMap, NEVER, type Observable, of, Subject, type Subscription, timer } from 'rxjs';
import type { Bus, Delivery } from '../../lib/chat/bus';
import { memoryBus } from '../../lib/bus/memory';
import { chat } from '../../lib/chat/chat';
import type { ChatEvent } from '../../lib/chat/events';
import type { Connection } from '../../lib/chat/connection';
import type { Outgoing } from '../../lib/chat/outgoing';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from '../../lib/chat/session-options';
import { MAX_HELD_LINES } from '../../lib/chat/gate';
import { InputCounter } from '../../lib/edge/input-counter';
import * as text from '../../lib/chat/texts';
import type { Input } from '../../lib/chat/input';
import { joined } from '../support/events';
import { scheduler } from '../support/marbles';

const options: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, rateLimits: { linesPerSecond: 1000, burstLines: 1000, maxQueuedLines: 1000 } };

/** How long the cluster's bus takes to hand an event back, in frames (ms): a round trip to Redis. */
const ROUND_TRIP = 10;

/**
 * A cluster's bus as one node sees it: each event this node publishes comes back ROUND_TRIP
 * later. `others$` are what the other nodes and the bus itself hand out; at a `bus-down` among
 * them, what is on its way comes back at once after it, and events go round this node alone.
 */
function clusterBus(others$: Observable<Delivery> = NEVER): Bus {
  const events = new Subject<ChatEvent>();
  const onTheirWay = new Map<ChatEvent, Subscription>();
  let up = true;
  const publish = (event: ChatEvent) => {
    if (!up) events.next(event);
    else onTheirWay.set(event, asyncScheduler.schedule(() => onTheirWay.delete(event) && events.next(event), ROUND_TRIP));
  };
  const cut = (event: Delivery): Delivery[] => {
    if (event.type !== 'bus-down') return [event];
    up = false;
    const unwritten = [...onTheirWay.keys()];
    onTheirWay.forEach((write) => write.unsubscribe());
    onTheirWay.clear();
    return [event, ...unwritten];
  };
  return { publish, events$: merge(events, others$.pipe(mergeMap(cut))), node: '' }; // the node of users '1', '2'...
}

/** What users read, as `room text` for a room and `id text` for one user; the greeting, prompts and welcomes left out. */
const seen = (outgoing: Outgoing): string =>
  outgoing.kind === 'broadcast' ? `${outgoing.room} ${outgoing.text}` : outgoing.kind === 'send' ? `${outgoing.to} ${outgoing.text}` : '';
const shown = (chat$: Observable<Outgoing>): Observable<string> =>
  chat$.pipe(map(seen), filter((line) => line.startsWith('#') || line.includes(' ***')));

/** ann's connection, id 1, at frame 0. */
const ann = (input$: Observable<Input>): Observable<Connection> => of({ id: '1', input$ });

const lines = {
  J: `#main ${text.joined('ann')}`, M: `#main ${text.movedTo('ann', '#games')}`, K: `#games ${text.joined('ann', '#games')}`,
  H: `#games ${text.said('ann', 'hello')}`, h: `#main ${text.said('ann', 'hello')}`, X: `#main ${text.said('ann', 'x')}`,
  Y: `#main ${text.said('ann', 'y')}`, W: `1 ${text.reply('1 in #games: ann')}`, R: `#main ${text.renamed('ann', 'ann2')}`,
  I: `#main ${text.said('ann2', 'hi')}`, i: `#main ${text.said('ann', 'hi')}`, B: `#main ${text.joined('bob')}`,
  D: `#main ${text.BUS_DOWN}`, L: `#games ${text.left('ann')}`, U: `#main ${text.BUS_UP}`,
  T: `1 ${text.nameRefused('username ann is taken')}`, t: `1 ${text.reply('username bob is taken')}`, A: `#main ${text.joined('ann', '#main')}`, Z: `#main ${text.left('ann')}`,
};

describe('a user\'s own change on a bus that hands it back later', () => {
  it('pipelines chat lines, and decides what follows a /join (a command too) once the move is back', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('a 11ms (xyjwh)', { a: 'ann', x: 'x', y: 'y', j: '/join #games', w: '/who', h: 'hello' });
      const expected = '         10ms J 11ms (XYMKW) 3ms H';
      expectObservable(shown(chat(ann(input), { bus: clusterBus() }, options))).toBe(expected, lines);
    });
  });

  it('decides what follows a /nick once the rename is back', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('a 11ms (nh)', { a: 'ann', n: '/nick ann2', h: 'hi' });
      const expected = '         10ms J 11ms R 9ms I';
      expectObservable(shown(chat(ann(input), { bus: clusterBus() }, options))).toBe(expected, lines);
    });
  });

  it('tells a user whose new name another node\'s user took first, and lets their lines go on under the old one', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const input = cold<Input>('a 11ms (nh)', { a: 'ann', n: '/nick bob', h: 'hi' });
      const others = hot<ChatEvent>('15ms b', { b: joined('x:1', 'bob') });
      const expected = '         10ms J 4ms B 6ms t 9ms i';
      expectObservable(shown(chat(ann(input), { bus: clusterBus(others) }, options))).toBe(expected, lines);
    });
  });

  it('moves them on this node alone, then takes up their lines, when the bus goes down with the move on its way', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const input = cold<Input>('a 11ms (jh)', { a: 'ann', j: '/join #games', h: 'hello' });
      const others = hot<Delivery>('15ms d', { d: { type: 'bus-down', node: '', at: 0 } });
      const expected = '         10ms J 4ms (DMKH)';
      expectObservable(shown(chat(ann(input), { bus: clusterBus(others) }, options))).toBe(expected, lines);
    });
  });

  it('says the lines typed before the input ended, then the goodbye, in the room moved to', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('a 11ms (jh|)', { a: 'ann', j: '/join #games', h: 'hello' });
      const expected = '         10ms J 11ms (MK) 6ms (HL)';
      expectObservable(shown(chat(ann(input), { bus: clusterBus() }, options))).toBe(expected, lines);
    });
  });

  it('says goodbye in the room moved to when the connection fails with the move on its way', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('a 11ms (jh#)', { a: 'ann', j: '/join #games', h: 'hello' }, new Error('ECONNRESET'));
      const expected = '         10ms J 11ms (MK) 6ms L';
      expectObservable(shown(chat(ann(input), { bus: clusterBus() }, options))).toBe(expected, lines);
    });
  });

  it('logs them in on this node alone when the bus goes down with the login on its way', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const input = cold<Input>('a', { a: 'ann' });
      const others = hot<Delivery>('2ms d', { d: { type: 'bus-down', node: '', at: 0 } });
      const expected = '         2ms J';
      expectObservable(shown(chat(ann(input), { bus: clusterBus(others) }, options))).toBe(expected, lines);
    });
  });

  it(`keeps ${MAX_HELD_LINES} lines typed while the move is on its way, and drops the rest as a flood`, () => {
    scheduler().run(({ flush }) => {
      const typed = ['/join #games', ...Array.from({ length: MAX_HELD_LINES + 5 }, (_, n) => `${n}`)];
      const input = concat(of('ann'), timer(12).pipe(mergeMap(() => typed))); // in one frame, once logged in
      const tally = new InputCounter();
      const said: string[] = [];
      shown(chat(ann(input), { bus: clusterBus(), tally }, options)).subscribe((line) => said.push(line));
      flush();
      const games = said.filter((line) => line.startsWith('#games ['));
      expect(games).toEqual(Array.from({ length: MAX_HELD_LINES }, (_, n) => `#games ${text.said('ann', `${n}`)}`));
      expect(tally.flooded).toBe(5);
    });
  });

  it('reads what was typed while the login was on its way once it is back, a /join holding the rest in turn', () => {
    scheduler().run(({ cold, expectObservable, flush }) => {
      const input = cold<Input>('(ajh)', { a: 'ann', j: '/join #games', h: 'hello' });
      const expected = '         10ms J 9ms (MK) 6ms H';
      const tally = new InputCounter();
      expectObservable(shown(chat(ann(input), { bus: clusterBus(), tally }, options))).toBe(expected, lines);
      flush();
      expect(tally.received).toBe(3); // once each, not again when read after the login
    });
  });

  it('asks for another name when another node\'s user took it first, and drops what was typed meanwhile', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const input = cold<Input>('(ah) 19ms b', { a: 'ann', h: 'hello', b: 'bob' });
      const others = hot<ChatEvent>('5ms x', { x: joined('x:1', 'ann') });
      const expected = '         5ms A 4ms T 22ms B';
      expectObservable(shown(chat(ann(input), { bus: clusterBus(others) }, options))).toBe(expected, lines);
    });
  });

  it('says the goodbye of a user gone before their login came back, once it is back', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('(a|)', { a: 'ann' });
      const expected = '         10ms J 9ms Z';
      expectObservable(shown(chat(ann(input), { bus: clusterBus() }, options))).toBe(expected, lines);
    });
  });

  it('holds nothing on a bus that hands events back at once: the line after /join is in the new room in the same frame', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('a 11ms (jh)', { a: 'ann', j: '/join #games', h: 'hello' });
      const expected = '         J 11ms (MKH)';
      expectObservable(shown(chat(ann(input), { bus: memoryBus() }, options))).toBe(expected, lines);
    });
  });
});

