import { TestScheduler } from 'rxjs/testing';
import { type Input, OVERLONG_LINE } from '../../lib/edge/lines';
import * as text from '../../lib/chat/texts';
import { DEFAULT_ROOM_OPTIONS, type Outgoing, type RoomOptions } from '../../lib/chat/room';
import { type Lobby, MAX_NICK_LENGTH, nickKey, nickProblem, session } from '../../lib/chat/session';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));

describe('nickProblem', () => {
  it.each([
    ['', 'username must not be empty'],
    ['a b', 'username must not contain spaces'],
    ['a\tb', 'username must not contain spaces'],
    ['a\u00a0b', 'username must not contain spaces'],
    ['\x1b[31mred', 'username must not contain control characters'],
    ['nul\0', 'username must not contain control characters'],
    ['c1\u009b', 'username must not contain control characters'],
    ['x'.repeat(MAX_NICK_LENGTH + 1), `username too long (max ${MAX_NICK_LENGTH} characters)`],
  ])('refuses %j', (nick, reason) => {
    expect(nickProblem(nick)).toBe(reason);
  });

  it.each(['a', 'funcuddles', 'x'.repeat(MAX_NICK_LENGTH), '🐕'.repeat(MAX_NICK_LENGTH), 'zoë'])('accepts %j', (nick) => {
    expect(nickProblem(nick)).toBeUndefined();
  });
});

describe('nickKey', () => {
  it('makes names that differ in case or composition the same user', () => {
    expect(nickKey('Bob')).toBe(nickKey('bOB'));
    expect(nickKey('Zo\u00eb')).toBe(nickKey('zoe\u0308'));
  });
});

describe('session', () => {
  const options: RoomOptions = { ...DEFAULT_ROOM_OPTIONS, loginTimeoutMs: 100, rateLimits: { linesPerSecond: 100, burstLines: 1, maxQueuedLines: 1 } };
  const send = (line: string): Outgoing => ({ kind: 'send', to: 7, text: line });
  const refused = (reason: string) => send(text.nameRefused(reason));
  const out = {
    g: send(text.greeting(options.banner)), p: send(text.PROMPT), w: send(text.welcome('ann')),
    a: { kind: 'admit', to: 7, nick: 'ann' }, j: { kind: 'broadcast', text: text.joined('ann') },
  } satisfies Record<string, Outgoing>;
  const entered: string[] = [];
  const lobby: Lobby = { isTaken: (key) => key === 'bob', enter: (id, nick, key) => entered.push(`${id} ${nick} ${key}`) };
  beforeEach(() => entered.splice(0));

  it('refuses each bad attempt, then enters the accepted name, trimmed, into the lobby', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions, flush }) => {
      const input = cold<Input>('----e----t----a', { e: '', t: 'Bob', a: ' Ann\t' });
      expectObservable(session({ id: 7, input$: input }, lobby, options)).toBe('(gp)(ep)-(tp)-(waj)', {
        ...out, e: refused('username must not be empty'), t: refused('username Bob is taken'),
        w: send(text.welcome('Ann')), a: { kind: 'admit', to: 7, nick: 'Ann' }, j: { kind: 'broadcast', text: text.joined('Ann') },
      });
      expectSubscriptions(input.subscriptions).toBe('^');
      flush();
      expect(entered).toEqual(['7 Ann ann']);
    });
  });

  it('refuses an over-long line as a name', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----o', { o: OVERLONG_LINE });
      expectObservable(session({ id: 7, input$: input }, lobby, options), '^-------!').toBe('(gp)(op)', {
        ...out, o: refused(`username too long (max ${MAX_NICK_LENGTH} characters)`),
      });
    });
  });

  it('times out a connection that never logs in, asks for it to be closed and stops reading it', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('-');
      expectObservable(session({ id: 7, input$: input }, lobby, options)).toBe('(gp) 96ms (tc|)', {
        ...out, t: send(text.LOGIN_TIMED_OUT), c: { kind: 'close', to: 7 },
      });
      expectSubscriptions(input.subscriptions).toBe('^ 99ms !');
    });
  });

  it('stops its login timer once logged in', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a 200ms |', { a: 'ann' });
      expectObservable(session({ id: 7, input$: input }, lobby, options)).toBe('(gp)(waj) 196ms |', out);
    });
  });

  it('completes quietly, and stops its timer, when the input ends before a login', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(session({ id: 7, input$: cold<Input>('----|') }, lobby, options)).toBe('(gp)|', out);
    });
  });

  it('completes, not errors, when the input errors: a user\'s error is their disconnect', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(session({ id: 7, input$: cold<Input>('----a----#', { a: 'ann' }) }, lobby, options)).toBe('(gp)(waj)|', out);
    });
  });

  it('completes at once when the input errors, dropping the lines still delayed', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a----(xy)#', { a: 'ann', x: 'x', y: 'y' });
      expectObservable(session({ id: 7, input$: input }, lobby, options)).toBe('(gp)(waj)x---|', {
        ...out, x: { kind: 'broadcast', text: text.said('ann', 'x') },
      });
    });
  });

  it('stops reading and drops the delayed lines when unsubscribed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('----a----(xy)', { a: 'ann', x: 'x', y: 'y' });
      expectObservable(session({ id: 7, input$: input }, lobby, options), '^------------!').toBe('(gp)(waj)x', {
        ...out, x: { kind: 'broadcast', text: text.said('ann', 'x') },
      });
      expectSubscriptions(input.subscriptions).toBe('^------------!');
    });
  });

  it('ends only its own session, quietly, when handling a line throws', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const broken: Lobby = { ...lobby, isTaken: () => { throw new Error('bug'); } };
      expectObservable(session({ id: 7, input$: cold<Input>('----a', { a: 'ann' }) }, broken, options)).toBe('(gp)|', out);
    });
  });

  it('broadcasts cleaned lines, skips blank ones, and completes once delayed lines are out', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a----(xbyo|)', { a: 'ann', x: 'x\x07', b: ' ', y: 'y', o: OVERLONG_LINE });
      expectObservable(session({ id: 7, input$: input }, lobby, options)).toBe('(gp)(waj)(xs) 6ms (y|)', {
        ...out, x: { kind: 'broadcast', text: text.said('ann', 'x') }, y: { kind: 'broadcast', text: text.said('ann', 'y') },
        s: send(text.SLOW_DOWN),
      });
    });
  });
});
