import { filter, map, NEVER, type Observable, of, Subject, VirtualAction, VirtualTimeScheduler } from 'rxjs';
import type { Bus, Delivery, StateAnswer } from '../../lib/chat/bus';
import { memoryBus } from '../../lib/bus/memory';
import { type Accounts, NO_ACCOUNTS } from '../../lib/chat/accounts';
import { chat } from '../../lib/chat/chat';
import { decide } from '../../lib/chat/decide';
import type { ChatEvent, StateData } from '../../lib/chat/events';
import { nameKey } from '../../lib/chat/names';
import type { Connection } from '../../lib/chat/connection';
import type { Outgoing } from '../../lib/chat/outgoing';
import { replyCost } from '../../lib/chat/pace';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from '../../lib/chat/session-options';
import type { Seat } from '../../lib/chat/loop';
import { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import type { Input } from '../../lib/chat/input';
import { away, joined, said, stateAfter } from '../support/events';
import { scheduler } from '../support/marbles';

const options: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, loginTimeoutMs: 50 };
const seat = () => ({ bus: memoryBus() });

const send = (to: string, line: string): Outgoing => ({ kind: 'send', to, text: line });
const broadcast = (line: string, room = '#main', hiddenFrom: string[] = []): Outgoing => ({ kind: 'broadcast', room, text: line, hiddenFrom });

// One letter per output; upper case for ann (connection 1), lower case for bob (connection 2).
const out = {
  G: send('1', text.greeting(text.DEFAULT_BANNER)), P: send('1', text.PROMPT), W: send('1', text.welcome('ann')),
  E: { kind: 'enter', to: '1', room: '#main' }, J: broadcast(text.joined('ann')), H: broadcast(text.said('ann', 'hi')),
  X: { kind: 'exit', to: '1' }, L: broadcast(text.left('ann')), Q: { kind: 'close', to: '1', reason: 'eof' },
  g: send('2', text.greeting(text.DEFAULT_BANNER)), p: send('2', text.PROMPT), w: send('2', text.welcome('bob')),
  e: { kind: 'enter', to: '2', room: '#main' }, j: broadcast(text.joined('bob')), y: broadcast(text.said('bob', 'yo')),
  x: { kind: 'exit', to: '2' }, l: broadcast(text.left('bob')), q: { kind: 'close', to: '2', reason: 'eof' },
} satisfies Record<string, Outgoing>;

const connections = (ann: Connection['input$'], bob?: Connection['input$']) => ({
  1: { id: '1', input$: ann }, ...(bob === undefined ? {} : { 2: { id: '2', input$: bob } }),
});

describe('chat', () => {
  it('greets, relays in order and says goodbye once per user, however the stream ends', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----a----h------------------------------|', { a: 'ann', h: 'hi' });
      const bob = cold<Input>('                        ----b----y----#', { b: 'bob', y: 'yo' }, new Error('ECONNRESET'));
      const joins = hot<Connection>('1-------------------2', connections(ann, bob));
      expectObservable(chat(joins, seat(), options)).toBe('(GP)(WEJ)H----------(gp)(wej)y----(xl)--(QXL)', {
        ...out, w: send('2', `${text.welcome('bob')}${text.said('ann', 'hi')}`), // the room's history
      });
      expectSubscriptions(ann.subscriptions).toBe('^---------------------------------------!'); // read once
      expectSubscriptions(bob.subscriptions).toBe('--------------------^-------------!');
    });
  });

  it('says goodbye once when a write to the user fails', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      // The edge turns a failed write (EPIPE, a destroyed socket) into an error of the input.
      const ann = cold<Input>('    ----a------------------------------', { a: 'ann' });
      const bob = cold<Input>('             ----b-----#', { b: 'bob' }, new Error('EPIPE'));
      const joins = hot<Connection>('1--------2', connections(ann, bob));
      expectObservable(chat(joins, seat(), options)).toBe('(GP)(WEJ)(gp)(wej)-(xl)', out);
    });
  });

  it('says nothing to the room for a connection that closes before logging in, and closes it', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----a----------', { a: 'ann' });
      const bob = cold<Input>('             -----|');
      const joins = hot<Connection>('1--------2', connections(ann, bob));
      expectObservable(chat(joins, seat(), options)).toBe('(GP)(WEJ)(gp)-q', out);
      expectSubscriptions(bob.subscriptions).toBe('---------^----!');
    });
  });

  it('frees a name when its user leaves', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('    ----a-----|', { a: 'ann' });
      const again = cold<Input>('                   ----a', { a: 'Ann' });
      const joins = hot<Connection>('1------------------2', connections(ann, again));
      expectObservable(chat(joins, seat(), options)).toBe('(GP)(WEJ)-(QXL)----(gp)(wej)', {
        ...out, w: send('2', text.welcome('Ann')), j: broadcast(text.joined('Ann')),
      });
    });
  });

  it('replays the room\'s history to a newcomer before the join line, and keeps a command out of it', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('    ----a-----h-----c-----m------', { a: 'ann', h: 'hi', c: '/who', m: '/me waves' });
      const bob = cold<Input>('                             ----b', { b: 'bob' });
      const joins = hot<Connection>('1-------------------------2', connections(ann, bob));
      expectObservable(chat(joins, seat(), options)).toBe('(GP)(WEJ)-H-----C-----M---(gp)(wej)', {
        ...out, C: send('1', text.reply('1 in #main: ann')), M: broadcast(text.acted('ann', 'waves')),
        w: send('2', `${text.welcome('bob')}${text.said('ann', 'hi')}${text.acted('ann', 'waves')}`),
      });
    });
  });

  it('moves a user between rooms: the room left is told, the room entered sees them join', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('    ----a-----j--', { a: 'ann', j: '/join #games' });
      const joins = hot<Connection>('1', connections(ann));
      expectObservable(chat(joins, seat(), options)).toBe('(GP)(WEJ)-(MXNK)', {
        ...out, M: broadcast(text.movedTo('ann', '#games')), X: { kind: 'exit', to: '1' },
        N: { kind: 'enter', to: '1', room: '#games' }, K: broadcast(text.joined('ann', '#games'), '#games'),
      });
    });
  });

  it('times out a connection that gives no valid name in time, and stops reading it', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----e---------', { e: '' });
      const joins = hot<Connection>('1', connections(ann));
      expectObservable(chat(joins, seat(), options)).toBe('(GP)(eP) 42ms (tc)', {
        ...out, e: send('1', text.nameRefused('username must not be empty')),
        t: send('1', text.besidePrompt(text.LOGIN_TIMED_OUT)), c: { kind: 'close', to: '1', reason: 'login_timeout' },
      });
      expectSubscriptions(ann.subscriptions).toBe('^ 49ms !');
    });
  });

  it('stops reading every user on shutdown without saying goodbye for them', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----a---------------', { a: 'ann' });
      const bob = cold<Input>('             -----------');
      const joins = hot<Connection>('1--------2', connections(ann, bob));
      expectObservable(chat(joins, seat(), options), '^-------------------!').toBe('(GP)(WEJ)(gp)', out);
      expectSubscriptions(ann.subscriptions).toBe('^-------------------!');
      expectSubscriptions(bob.subscriptions).toBe('---------^----------!');
    });
  });

  describe('on a node of a cluster', () => {
    // Node a holds ann (a:1); bob (b:1) is on node b. The bus is driven by hand, as Redis would.
    const onNodeA = (connections$: Observable<Connection> = NEVER, more: Partial<Seat> = {}) => {
      const events = new Subject<Delivery>();
      const published: ChatEvent[] = [];
      const answers: StateAnswer[] = [];
      const shown: Outgoing[] = [];
      const state = new ChatState();
      const told: ChatEvent[] = [];
      const bus: Bus = { publish: (event) => published.push(event), events$: events, node: 'a', answer: (answer) => answers.push(answer) };
      // What a session takes up on its next turn, taken up by `flush`; the clock stays at 0, so no timeout comes.
      const time = new VirtualTimeScheduler(VirtualAction, 0);
      chat(connections$, { ...more, newState: () => state, bus, applied: (event) => told.push(event) }, options, time).subscribe((out) => shown.push(out));
      const hand = (delivery: Delivery): Outgoing[] => {
        shown.length = 0;
        events.next(delivery);
        time.flush();
        return [...shown];
      };
      /** The roster the bus publishes at a recovery, made of what the chat answers it. */
      const rosterNow = (): Roster => {
        hand({ type: 'asked', question: { type: 'roster' } });
        const answer = answers.at(-1);
        return { type: 'roster', node: 'a', users: answer?.type === 'roster' ? answer.users : [], at: 0 };
      };
      return { hand, published, state, told, rosterNow, flush: () => time.flush() };
    };
    type Roster = Extract<ChatEvent, { type: 'roster' }>;
    const both = stateAfter(joined('a:1', 'ann'), joined('b:1', 'bob')).toJSON();
    const none = stateAfter().toJSON();
    const restored = (state: StateData, rejoining = true): Delivery => ({ type: 'restored', node: 'a', state, rejoining, at: 0 });
    const busDown = (at: number): Delivery => ({ type: 'bus-down', node: 'a', at });
    const roster = (nick: string, connectedAt = 0): Roster => ({ type: 'roster', node: 'a', users: [{ id: 'a:1', nick, room: '#main', connectedAt }], at: 0 });
    const rejoined = (listed: Roster): Delivery => ({ type: 'rejoined', roster: listed });
    /** ann logs in on node a through `typed`, her join handed back; resolves to it. */
    const logIn = (hand: (delivery: Delivery) => Outgoing[], published: ChatEvent[], typed: Subject<Input>, name = 'ann') => {
      typed.next(name);
      const login = published.find((event) => event.type === 'joined');
      if (login === undefined) throw new Error('no login published');
      hand(login);
      return login;
    };

    it('tells its users once per outage, however often the bus drops, and once that the chat is whole again', () => {
      const { hand } = onNodeA();
      hand(restored(both, false));
      expect(hand(busDown(1))).toEqual([broadcast(text.BUS_DOWN)]);
      hand(restored(both));
      expect(hand(busDown(2))).toEqual([]);
      hand(restored(both));
      expect(hand(rejoined(roster('ann')))).toEqual([broadcast(text.BUS_UP)]);
      expect(hand(busDown(3))).toEqual([broadcast(text.BUS_DOWN)]);
    });

    it('applies and does not show what the bus replays: it showed it before the outage', () => {
      const { hand, state } = onNodeA();
      hand(busDown(1));
      hand(restored(both));
      expect(hand({ type: 'replayed', event: said('b:1', 'bob', 'seen before') })).toEqual([]);
      expect(state.history('#main')).toEqual([said('b:1', 'bob', 'seen before')]);
      expect(hand(said('b:1', 'bob', 'new'))).toEqual([broadcast(text.said('bob', 'new'))]);
    });

    it('tells what the state took once: a lost node\'s departures too, not a rename it refused, not a replay', () => {
      const { hand, told } = onNodeA();
      hand(restored(stateAfter(joined('a:1', 'ann')).toJSON(), false));
      const bob = joined('b:1', 'bob');
      hand(bob);
      hand({ type: 'renamed', user: 'b:1', from: 'bob', nick: 'ann', room: '#main', at: 1 }); // ann holds it
      hand({ type: 'node-lost', node: 'b', at: 2 });
      hand({ type: 'replayed', event: said('a:1', 'ann', 'seen before') });
      hand(said('a:1', 'ann', 'new'));
      expect(told).toEqual([bob, { type: 'left', user: 'b:1', nick: 'bob', room: '#main', at: 2, nodeGone: true }, said('a:1', 'ann', 'new')]);
    });

    it('answers the bus with its users, addresses included, and takes them back from its roster once the bus is back', () => {
      const typed = new Subject<Input>();
      const { hand, published, state, rosterNow } = onNodeA(of({ id: 'a:1', input$: typed, from: '10.0.0.1' }));
      hand(restored(none, false));
      const login = logIn(hand, published, typed);
      hand(busDown(1));
      const listed = rosterNow();
      expect(listed.users).toEqual([{ id: 'a:1', nick: 'ann', room: '#main', connectedAt: login.at, from: '10.0.0.1' }]);
      hand(restored(none)); // a Redis back empty
      expect(state.user('a:1')).toBeUndefined();
      expect(hand(rejoined(listed))).toEqual([broadcast(text.BUS_UP)]); // ann's return: no news to this node
      expect(state.user('a:1')?.from).toBe('10.0.0.1');
      typed.complete();
    });

    it('keeps a user\'s password login through an outage: its roster says it, and their return keeps it', () => {
      const typed = new Subject<Input>();
      const { hand, published, state, rosterNow } = onNodeA(of({ id: 'a:1', input$: typed }));
      hand(restored(none, false));
      const login = logIn(hand, published, typed);
      hand({ type: 'identified', user: 'a:1', nick: 'ann', at: 1 });
      hand(busDown(2));
      const listed = rosterNow();
      expect(listed.users).toEqual([{ id: 'a:1', nick: 'ann', room: '#main', connectedAt: login.at, identified: nameKey('ann') }]);
      hand(restored(none)); // a Redis back empty
      hand(rejoined(listed));
      expect(state.toJSON().users.map((user) => user.identified)).toEqual([nameKey('ann')]);
      typed.complete();
    });

    it('has a user of its own who took a name registered elsewhere during the outage give it up, once back and once the names are read anew', () => {
      const typed = new Subject<Input>();
      const reread = new Subject<void>();
      const registered = new Set<string>();
      const accounts: Accounts = { ...NO_ACCOUNTS, registered: (name) => registered.has(name) };
      const { hand, published, rosterNow } = onNodeA(of({ id: 'a:1', input$: typed }), { accounts, accountsReread$: reread });
      hand(restored(none, false));
      logIn(hand, published, typed, 'erin');
      hand(busDown(1));
      const listed = rosterNow();
      hand(restored(none));
      const giveUp = { type: 'renamed', user: 'a:1', from: 'erin', nick: 'erin_2', room: '#main', at: expect.any(Number), displaced: true, owner: true };
      hand(rejoined(listed)); // back, but this node has not read that erin is registered yet
      expect(published).not.toContainEqual(giveUp);
      registered.add('erin');
      reread.next();
      expect(published.filter((event) => event.type === 'renamed')).toEqual([giveUp]);
      reread.next(); // asked once while on its way
      expect(published.filter((event) => event.type === 'renamed')).toHaveLength(1);
      typed.complete();
    });

    it('shows of its own roster, back, only the names it changed', () => {
      const typed = new Subject<Input>();
      const { hand, published, rosterNow } = onNodeA(of({ id: 'a:1', input$: typed }));
      hand(restored(none, false));
      const login = logIn(hand, published, typed);
      hand(busDown(1));
      const listed = rosterNow();
      expect(listed).toEqual(roster('ann', login.at));
      hand(restored(stateAfter(joined('b:1', 'ann', '#main', login.at - 1)).toJSON())); // another node's ann, logged in first
      expect(hand(rejoined(listed))).toEqual([
        broadcast(text.BUS_UP),
        broadcast(text.renamed('ann', 'ann_2')),
        send('a:1', text.renamedOnReturn('ann', 'ann_2')),
      ]);
      typed.complete();
    });

    it('lets a user go who left while its roster was on its way, once it is back', () => {
      const typed = new Subject<Input>();
      const { hand, published, rosterNow, flush } = onNodeA(of({ id: 'a:1', input$: typed }));
      hand(restored(none, false));
      logIn(hand, published, typed);
      hand(busDown(1));
      const listed = rosterNow();
      hand(restored(none));
      typed.complete(); // ann is not in the cluster's state yet
      flush();
      const departures = () => published.filter((event) => event.type === 'left');
      expect(departures()).toEqual([]);
      hand(rejoined(listed));
      expect(departures()).toEqual([{ type: 'left', user: 'a:1', nick: 'ann', room: '#main', at: expect.any(Number) }]);
    });

    it('lets a user go on whose own change may never come back once the cluster\'s state is restored, and leave', () => {
      const typed = new Subject<Input>();
      const { hand, published, rosterNow, flush } = onNodeA(of({ id: 'a:1', input$: typed }));
      hand(restored(none, false));
      logIn(hand, published, typed);
      typed.next('/nick anna'); // on its way when Redis goes, with what it held
      typed.next('hi');
      flush();
      hand(busDown(1));
      const listed = rosterNow();
      hand(restored(none));
      hand(rejoined(listed));
      expect(published.filter((event) => event.type === 'said')).toEqual([expect.objectContaining({ text: 'hi', nick: 'ann' })]);
      typed.complete();
      flush();
      expect(published.filter((event) => event.type === 'left')).toEqual([expect.objectContaining({ user: 'a:1', nick: 'ann' })]);
    });
  });
});

describe('output a user\'s lines make the server write', () => {
  // 100 lines a second: a line every 10 frames once the one-line burst is spent.
  const paced: SessionOptions = { ...options, rateLimits: { linesPerSecond: 100, burstLines: 1, maxQueuedLines: 10 } };
  /** A marble with `letter` at each frame of `frames`, in order. */
  const marble = (...frames: readonly (readonly [number, string])[]): string =>
    frames.reduce(({ text: written, next }, [frame, letter]) => ({ text: `${written} ${frame - next}ms ${letter}`, next: frame + 1 }), { text: '', next: 0 }).text;
  const bytesOf = (lines: readonly string[]) => lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);

  it('counts against its user\'s pace, a line per 4 KiB, and slows nobody else', () => {
    // 300 users away with reasons of 200 characters: each /who answers about 32 KiB.
    const crowd = Array.from({ length: 300 }, (_, index) => [joined(`p${index}`, `p${index}`), away(`p${index}`, 'r'.repeat(200))]).flat();
    const who = decide(stateAfter(...crowd, joined('1', 'ann'), joined('2', 'bob')), { type: 'line', user: '1', text: '/who', at: 0 }).replies;
    const cost = replyCost(bytesOf(who));
    expect(cost).toBeGreaterThanOrEqual(7);
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('----a-----(www)', { a: 'ann', w: '/who' });
      const bob = cold<Input>('-----b------y', { b: 'bob', y: 'yo' });
      const seen$ = chat(hot<Connection>('(12)', connections(ann, bob)), { newState: () => stateAfter(...crowd), bus: memoryBus() }, paced).pipe(
        filter((each) => (each.kind === 'send' && each.to === '1' && each.text === who.at(-1)) || (each.kind === 'broadcast' && each.text === text.said('bob', 'yo'))),
        map((each) => (each.kind === 'send' ? 'w' : 'y')),
      );
      const turn = (1 + cost) * 10; // each /who waits for its own line and for what the one before it cost
      expectObservable(seen$).toBe(marble([10, 'w'], [12, 'y'], [10 + turn, 'w'], [10 + 2 * turn, 'w']));
    });
  });

  it('counts the history a /join writes against the pace of its user', () => {
    const history = Array.from({ length: 20 }, (_, index) => said('p0', 'pat', `${index} ${'h'.repeat(4000)}`, '#games'));
    const cost = replyCost(bytesOf(history.map((line) => text.said(line.nick, line.text))));
    expect(cost).toBeGreaterThanOrEqual(19);
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('----a-----(jh)', { a: 'ann', j: '/join #games', h: 'hi' });
      const seat = { newState: () => stateAfter(joined('p0', 'pat', '#games'), ...history), bus: memoryBus() };
      const seen$ = chat(hot<Connection>('1', connections(ann)), seat, paced).pipe(
        filter((each) => each.kind === 'broadcast' && each.text === text.said('ann', 'hi')),
        map(() => 'h'),
      );
      expectObservable(seen$).toBe(marble([10 + (1 + cost) * 10, 'h']));
    });
  });
});
