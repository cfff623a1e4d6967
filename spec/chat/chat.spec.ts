import { TestScheduler } from 'rxjs/testing';
import { type Input, OVERLONG_LINE } from '../../lib/edge/lines';
import * as text from '../../lib/chat/texts';
import { type Connection, DEFAULT_ROOM_OPTIONS, type Outgoing, room, type RoomOptions } from '../../lib/chat/room';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const options: RoomOptions = { ...DEFAULT_ROOM_OPTIONS, loginTimeoutMs: 50 };

const send = (to: number, line: string): Outgoing => ({ kind: 'send', to, text: line });
const broadcast = (line: string): Outgoing => ({ kind: 'broadcast', text: line });

// One letter per output; upper case for ann (connection 1), lower case for bob (connection 2).
const out = {
  G: send(1, text.greeting(text.DEFAULT_BANNER)), P: send(1, text.PROMPT),
  W: send(1, text.welcome('ann')), A: { kind: 'admit', to: 1, nick: 'ann' }, J: broadcast(text.joined('ann')),
  H: broadcast(text.said('ann', 'hi')), D: { kind: 'dismiss', to: 1, nick: 'ann' }, L: broadcast(text.left('ann')),
  g: send(2, text.greeting(text.DEFAULT_BANNER)), p: send(2, text.PROMPT),
  w: send(2, text.welcome('bob')), a: { kind: 'admit', to: 2, nick: 'bob' }, j: broadcast(text.joined('bob')),
  y: broadcast(text.said('bob', 'yo')), d: { kind: 'dismiss', to: 2, nick: 'bob' }, l: broadcast(text.left('bob')),
} satisfies Record<string, Outgoing>;

describe('room', () => {
  it('greets, relays in order and says goodbye once per user, however the stream ends', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----a----h------------------------------|', { a: 'ann', h: 'hi' });
      const bob = cold<Input>('                        ----b----y----#', { b: 'bob', y: 'yo' }, new Error('ECONNRESET'));
      const joins = hot<Connection>('1-------------------2', { 1: { id: 1, input$: ann }, 2: { id: 2, input$: bob } });
      expectObservable(room(joins, options)).toBe('(GP)(WAJ)H----------(gp)(waj)y----(dl)--(DL)', out);
      expectSubscriptions(ann.subscriptions).toBe('^---------------------------------------!'); // read once
      expectSubscriptions(bob.subscriptions).toBe('--------------------^-------------!');
    });
  });

  it('says goodbye once when a write to the user fails', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      // The edge turns a failed write (EPIPE, a destroyed socket) into an error of the input.
      const ann = cold<Input>('    ----a------------------------------', { a: 'ann' });
      const bob = cold<Input>('             ----b-----#', { b: 'bob' }, new Error('EPIPE'));
      const joins = hot<Connection>('1--------2', { 1: { id: 1, input$: ann }, 2: { id: 2, input$: bob } });
      expectObservable(room(joins, options)).toBe('(GP)(WAJ)(gp)(waj)-(dl)', out);
    });
  });

  it('broadcasts nothing for a connection that closes before logging in', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----a----------', { a: 'ann' });
      const bob = cold<Input>('             ---|');
      const joins = hot<Connection>('1--------2', { 1: { id: 1, input$: ann }, 2: { id: 2, input$: bob } });
      expectObservable(room(joins, options)).toBe('(GP)(WAJ)(gp)--', out);
      expectSubscriptions(bob.subscriptions).toBe('---------^--!');
    });
  });

  it('refuses a name taken in another case and asks again on the same connection', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('    ----a---------------', { a: 'ann' });
      const bob = cold<Input>('             ----n----b----y', { n: 'ANN', b: 'bob', y: 'yo' });
      const joins = hot<Connection>('1--------2', { 1: { id: 1, input$: ann }, 2: { id: 2, input$: bob } });
      expectObservable(room(joins, options)).toBe('(GP)(WAJ)(gp)(rp)-(waj)y', {
        ...out, r: send(2, text.nameRefused('username ANN is taken')),
      });
    });
  });

  it('frees a name when its user leaves', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('    ----a-----|', { a: 'ann' });
      const again = cold<Input>('                   ----a', { a: 'Ann' });
      const joins = hot<Connection>('1------------------2', { 1: { id: 1, input$: ann }, 2: { id: 2, input$: again } });
      expectObservable(room(joins, options)).toBe('(GP)(WAJ)-(DL)-----(gp)(waj)', {
        ...out, w: send(2, text.welcome('Ann')), a: { kind: 'admit', to: 2, nick: 'Ann' }, j: broadcast(text.joined('Ann')),
      });
    });
  });

  it('refuses names that break the rules, each with its reason', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('    ----e----s----c----l----o----a', {
        e: '  ', s: 'a b', c: 'a\x1b[31m', l: 'x'.repeat(33), o: OVERLONG_LINE, a: ' ann ',
      });
      const joins = hot<Connection>('1', { 1: { id: 1, input$: ann } });
      const refused = (reason: string) => send(1, text.nameRefused(reason));
      expectObservable(room(joins, options)).toBe('(GP)(eP)-(sP)-(cP)-(lP)-(oP)-(WAJ)', {
        ...out,
        e: refused('username must not be empty'),
        s: refused('username must not contain spaces'),
        c: refused('username must not contain control characters'),
        l: refused('username too long (max 32 characters)'),
        o: refused('username too long (max 32 characters)'),
      });
    });
  });

  it('times out a connection that gives no valid name in time, and stops reading it', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----e---------', { e: '' });
      const joins = hot<Connection>('1', { 1: { id: 1, input$: ann } });
      const expected = '           (GP)(eP) 42ms (tc)';
      expectObservable(room(joins, options)).toBe(expected, {
        ...out, e: send(1, text.nameRefused('username must not be empty')),
        t: send(1, text.LOGIN_TIMED_OUT), c: { kind: 'close', to: 1 },
      });
      expectSubscriptions(ann.subscriptions).toBe('^ 49ms !');
    });
  });

  it('skips empty lines, strips control characters and tells only the sender of an over-long line', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const ann = cold<Input>('    ----a----e----c----o', { a: 'ann', e: ' \t ', c: 'h\x1b[2Ji\x07', o: OVERLONG_LINE });
      const joins = hot<Connection>('1', { 1: { id: 1, input$: ann } });
      expectObservable(room(joins, options)).toBe('(GP)(WAJ)-----H----o', {
        ...out, o: send(1, text.lineTooLong(options.maxLineBytes)),
      });
    });
  });

  it('paces a flood and tells the flooder once when lines are dropped', () => {
    scheduler().run(({ cold, hot, expectObservable }) => {
      const flood = { ...options, rateLimits: { linesPerSecond: 200, burstLines: 1, maxQueuedLines: 1 } };
      const ann = cold<Input>('    ----a----(xyz)', { a: 'ann', x: 'x', y: 'y', z: 'z' });
      const joins = hot<Connection>('1', { 1: { id: 1, input$: ann } });
      expectObservable(room(joins, flood)).toBe('(GP)(WAJ)(xs)-y', {
        ...out, x: broadcast(text.said('ann', 'x')), y: broadcast(text.said('ann', 'y')), s: send(1, text.SLOW_DOWN),
      });
    });
  });

  it('stops reading every user on shutdown without saying goodbye for them', () => {
    scheduler().run(({ cold, hot, expectObservable, expectSubscriptions }) => {
      const ann = cold<Input>('    ----a---------------', { a: 'ann' });
      const bob = cold<Input>('             -----------');
      const joins = hot<Connection>('1--------2', { 1: { id: 1, input$: ann }, 2: { id: 2, input$: bob } });
      expectObservable(room(joins, options), '^-------------------!').toBe('(GP)(WAJ)(gp)', out);
      expectSubscriptions(ann.subscriptions).toBe('^-------------------!');
      expectSubscriptions(bob.subscriptions).toBe('---------^----------!');
    });
  });
});
