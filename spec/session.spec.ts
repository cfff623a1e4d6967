import { TestScheduler } from 'rxjs/testing';
import { OVERLONG_LINE } from '../lib/lines';
import { login, MAX_NICK_LENGTH, nickKey, nickProblem } from '../lib/session';

const scheduler = () => new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
const taken = new Set(['bob']);
const isTaken = (key: string) => taken.has(key);

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

describe('login', () => {
  it('refuses each bad attempt and completes on the accepted name, trimmed', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-e-t-a-x', { e: '', t: 'Bob', a: ' ann\t', x: 'unread' });
      expectObservable(login(input, isTaken, 100)).toBe('-e-t-(a|)', {
        e: { kind: 'refused', reason: 'username must not be empty' },
        t: { kind: 'refused', reason: 'username Bob is taken' },
        a: { kind: 'accepted', nick: 'ann', key: 'ann' },
      });
      expectSubscriptions(input.subscriptions).toBe('^----!');
    });
  });

  it('refuses an over-long line as a name', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(login(cold('-o', { o: OVERLONG_LINE }), isTaken, 100)).toBe('-o 98ms (t|)', {
        t: { kind: 'timed-out' },
        o: { kind: 'refused', reason: `username too long (max ${MAX_NICK_LENGTH} characters)` },
      });
    });
  });

  it('times out a connection that never sends', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold('-');
      expectObservable(login(input, isTaken, 100)).toBe('100ms (t|)', { t: { kind: 'timed-out' } });
      expectSubscriptions(input.subscriptions).toBe('^ 99ms !');
    });
  });

  it('completes quietly, and stops its timer, when the input ends first', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(login(cold('--|'), isTaken, 100)).toBe('--|');
    });
  });

  it('errors when the input errors', () => {
    scheduler().run(({ cold, expectObservable }) => {
      expectObservable(login(cold('--#'), isTaken, 100)).toBe('--#');
    });
  });
});
