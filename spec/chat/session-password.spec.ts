import { EMPTY, filter, ignoreElements, merge, NEVER, type Observable, of, tap } from 'rxjs';
import { memoryBus } from '../../lib/bus/memory';
import { type AccountOutcome, type Accounts, MAX_PASSWORD_TRIES, MAX_UNCHECKED_TRIES, type Verdict } from '../../lib/chat/accounts';
import type { ChatEvent } from '../../lib/chat/events';
import type { Outgoing } from '../../lib/chat/outgoing';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from '../../lib/chat/session-options';
import type { Seat } from '../../lib/chat/loop';
import { session } from '../support/session';
import { ChatState } from '../../lib/chat/state';
import * as text from '../../lib/chat/texts';
import type { Input } from '../../lib/chat/input';
import { given } from '../support/events';
import { scheduler } from '../support/marbles';
import { annOnlyAccounts } from '../support/accounts';

const options: SessionOptions = { ...DEFAULT_SESSION_OPTIONS, loginTimeoutMs: 100 };

const send = (line: string): Outgoing => ({ kind: 'send', to: '7', text: line });
const out = {
  g: send(text.greeting(options.banner)), p: send(text.PROMPT), w: send(text.PASSWORD_IN_CLEAR), q: send(text.PASSWORD_PROMPT),
  x: send(text.WRONG_PASSWORD), c: { kind: 'close', to: '7', reason: 'wrong_password' }, t: send(text.TOO_MANY_PASSWORD_TRIES),
} satisfies Record<string, Outgoing | ChatEvent>;


/** The session's texts and events; when the door is told to hide the typing is session-conceal.spec.ts's. */
function observed(input$: Observable<Input>, seat: Seat, secure = false, sessionOptions = options): Observable<Outgoing | ChatEvent> {
  const told$ = session({ id: '7', input$, secure, from: '10.0.0.1' }, seat, sessionOptions).pipe(filter((out) => !('kind' in out) || out.kind !== 'conceal'));
  return merge(told$, NEVER); // the chat's bus goes on after the session
}

describe('session with registered names', () => {
  it('says a /register is done before identifying the user, so "you are an operator" follows it on one node as on a cluster', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a-r', { a: 'ann', r: '/register secret-one' });
      const registry: Accounts = { registered: () => false, accountOf: () => 'ann-account', verify: () => of<Verdict>('wrong'), change: () => of<AccountOutcome>('done') };
      const seat = { bus: memoryBus(), accounts: registry };
      expectObservable(observed(input, seat, true)).toBe('(gp)j-(di)', {
        ...out,
        j: { type: 'joined', user: '7', nick: 'ann', room: '#main', at: 4, from: '10.0.0.1' },
        d: send(text.accountOutcome('register', 'done', 'ann')),
        i: { type: 'identified', user: '7', nick: 'ann', at: 6, account: 'ann-account' },
      });
    });
  });

  it('times out on a line of its own at the password prompt, and bare after a typed password checked past the deadline', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const seat = () => ({ bus: memoryBus(), accounts: annOnlyAccounts(200, cold) });
      const prompted = cold<Input>('----a', { a: 'ann' });
      const timedOut = { ...out, b: send(text.besidePrompt(text.LOGIN_TIMED_OUT)), o: send(text.LOGIN_TIMED_OUT), c: { kind: 'close', to: '7', reason: 'login_timeout' } };
      expectObservable(observed(prompted, seat(), true)).toBe('(gp)q 95ms (bc)', timedOut);
      const typed = cold<Input>('----a-b', { a: 'ann', b: 'one' });
      expectObservable(observed(typed, seat(), true)).toBe('(gp)q 201ms (xoc)', timedOut);
    });
  });

  it('asks a registered name for its password, warning a plain connection once, then joins it from its address and tells the chat it gave the password', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>(' ----a-----b---------c', { a: 'ann', b: 'wrong-one', c: 'right-one' });
      const seat = { bus: memoryBus(), accounts: annOnlyAccounts(2, cold) };
      const expected = '          (gp)(wq)----(xq)------(ji)';
      expectObservable(observed(input, seat)).toBe(expected, {
        ...out,
        j: { type: 'joined', user: '7', nick: 'ann', room: '#main', at: 22, from: '10.0.0.1' },
        i: { type: 'identified', user: '7', nick: 'ann', at: 22, account: 'ann-account' },
      });
      expectSubscriptions(input.subscriptions).toBe('^');
    });
  });

  it('asks the password of a registered name an open connection holds, and with it takes that user over', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>(' ----a-----b', { a: 'ann', b: 'right-one' });
      const state = new ChatState();
      given(state, { type: 'joined', user: '1', nick: 'ann', room: '#main', at: 0 }, { type: 'identified', user: '1', nick: 'ann', account: 'ann-account', at: 0 });
      const seat = { newState: () => state, bus: memoryBus(), accounts: annOnlyAccounts(2, cold) };
      expectObservable(observed(input, seat)).toBe('(gp)(wq)----(ri)', {
        ...out,
        r: { type: 'resumed', user: '7', replaced: '1', nick: 'ann', at: 12, from: '10.0.0.1' },
        i: { type: 'identified', user: '7', nick: 'ann', at: 12, account: 'ann-account' },
      });
    });
  });

  it(`closes after MAX_PASSWORD_TRIES (${MAX_PASSWORD_TRIES}) wrong passwords, saying so, and stops reading; TLS gets no warning`, () => {

    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>(' ----a-b---c---d', { a: 'ann', b: 'one', c: 'two', d: 'three' });
      const seat = { bus: memoryBus(), accounts: annOnlyAccounts(0, cold) };
      expectObservable(observed(input, seat, true)).toBe('(gp)q-(xq)(xq)(xtc)', out); // the bus, merged in, never completes
      expectSubscriptions(input.subscriptions).toBe('   ^-------------!');
    });
  });

  it('says a password that could not be checked now was not checked, prompts again, and does not count it as a wrong one', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>(' ----a-b---c---d---e', { a: 'ann', b: 'one', c: 'two', d: 'three', e: 'four' });
      const unchecked = { ...annOnlyAccounts(0, cold), verify: (_name: string, password: string) => cold('(r|)', { r: password === 'one' ? ('unchecked' as const) : ('wrong' as const) }) };
      const seat = { bus: memoryBus(), accounts: unchecked };
      expectObservable(observed(input, seat, true)).toBe('(gp)q-(uq)(xq)(xq)(xtc)', { ...out, u: send(text.PASSWORD_UNCHECKED) });
    });
  });

  it('logs in with the right password once it is checked, after being answered "not checked" more times than the wrong-password tries', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const uncheckedTimes = MAX_PASSWORD_TRIES + 2;
      const input = cold<Input>(`----a-${'b---'.repeat(uncheckedTimes)}c`, { a: 'ann', b: 'right-one', c: 'right-one' });
      let asked = 0; // a guess stream at ann fills the name's queue for her first checks, then ends
      const busy = { ...annOnlyAccounts(0, cold), verify: () => cold<Verdict>('(r|)', { r: ++asked <= uncheckedTimes ? 'unchecked' : 'right' }) };
      const seat = { bus: memoryBus(), accounts: busy };
      const loggedInAt = 6 + 4 * uncheckedTimes; // each (uq) takes 4 frames
      expectObservable(observed(input, seat, true)).toBe(`(gp)q-${'(uq)'.repeat(uncheckedTimes)}(ji)`, {
        ...out,
        u: send(text.PASSWORD_UNCHECKED),
        j: { type: 'joined', user: '7', nick: 'ann', room: '#main', at: loggedInAt, from: '10.0.0.1' },
        i: { type: 'identified', user: '7', nick: 'ann', at: loggedInAt, account: 'ann-account' },
      });
    });
  });

  it(`closes after MAX_UNCHECKED_TRIES (${MAX_UNCHECKED_TRIES}) passwords that were not checked, so a connection cannot ask without end`, () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>(`----a-${'b---'.repeat(MAX_UNCHECKED_TRIES + 1)}`, { a: 'ann', b: 'right-one' });
      const busy = { ...annOnlyAccounts(0, cold), verify: () => cold<Verdict>('(r|)', { r: 'unchecked' }) };
      const seat = { bus: memoryBus(), accounts: busy };
      expectObservable(observed(input, seat, true)).toBe(`(gp)q-${'(uq)'.repeat(MAX_UNCHECKED_TRIES - 1)}(utc)`, {
        ...out, u: send(text.PASSWORD_UNCHECKED), c: { kind: 'close', to: '7', reason: 'login_limit' },
      });
      expectSubscriptions(input.subscriptions).toBe(`^-----${'----'.repeat(MAX_UNCHECKED_TRIES - 1)}!`); // stops reading at the close
    });
  });

  it('checks a password given before the login deadline even when the answer comes after it: a right one logs in, a wrong one ends the login', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const slow = { ...annOnlyAccounts(150, cold), registered: (name: string) => name === 'ann' || name === 'bob' };
      const right = cold<Input>(' ----a-b', { a: 'ann', b: 'right-one' });
      expectObservable(observed(right, { bus: memoryBus(), accounts: slow }, true)).toBe('(gp)q- 150ms (ji)', {
        ...out,
        j: { type: 'joined', user: '7', nick: 'ann', room: '#main', at: 156, from: '10.0.0.1' },
        i: { type: 'identified', user: '7', nick: 'ann', at: 156, account: 'ann-account' },
      });
      const wrong = cold<Input>(' ----a-b', { a: 'bob', b: 'wrong-one' });
      expectObservable(observed(wrong, { bus: memoryBus(), accounts: slow }, true)).toBe('(gp)q- 150ms (xtc)', {
        ...out, t: send(text.LOGIN_TIMED_OUT), c: { kind: 'close', to: '7', reason: 'login_timeout' },
      });
    });
  });

  it('ends the login when a password given before the deadline cannot be checked, or is a displaced account\'s, and the answer comes after it', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const late = (verdict: Verdict) => ({ ...annOnlyAccounts(150, cold), verify: () => cold<Verdict>('150ms (r|)', { r: verdict }) });
      const input = cold<Input>(' ----a-b', { a: 'ann', b: 'right-one' });
      const closed = { ...out, t: send(text.besidePrompt(text.LOGIN_TIMED_OUT)), c: { kind: 'close', to: '7', reason: 'login_timeout' } };
      expectObservable(observed(input, { bus: memoryBus(), accounts: late('failed') }, true)).toBe('(gp)q- 150ms (fptc)', {
        ...closed, f: send(text.CHECK_FAILED),
      });
      expectObservable(observed(input, { bus: memoryBus(), accounts: late('displaced') }, true)).toBe('(gp)q- 150ms (dptc)', {
        ...closed, d: send(text.nameDisplaced('ann')),
      });
    });
  });

  it('logs in at the right password\'s late answer, past the deadline, taking the name from whoever took it meanwhile without its password', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const seat = { bus: memoryBus(), accounts: annOnlyAccounts(150, cold) };
      const input = cold<Input>(' ----a-b', { a: 'ann', b: 'right-one' });
      const taken: ChatEvent = { type: 'joined', user: '8', nick: 'ann', room: '#main', at: 50, from: '10.0.0.2' };
      const takenMeanwhile$ = cold('50ms x').pipe(tap(() => seat.bus.publish(taken)), ignoreElements());
      expectObservable(merge(takenMeanwhile$, observed(input, seat, true))).toBe('(gp)q- 44ms k 105ms (rji)', {
        ...out,
        k: taken,
        r: { type: 'renamed', user: '8', from: 'ann', nick: 'ann_2', room: '#main', at: 156, displaced: true, owner: true },
        j: { type: 'joined', user: '7', nick: 'ann', room: '#main', at: 156, from: '10.0.0.1' },
        i: { type: 'identified', user: '7', nick: 'ann', at: 156, account: 'ann-account' },
      });
    });
  });

  it('drops lines typed while the password is checked, and the check when the session ends', () => {
    scheduler().run(({ cold, expectObservable, expectSubscriptions }) => {
      const input = cold<Input>('----abc', { a: 'ann', b: 'right-one', c: 'typed ahead' });
      const check = cold<Verdict>('50ms (r|)', { r: 'right' });
      const seat = { bus: memoryBus(), accounts: { ...annOnlyAccounts(0, cold), verify: () => check } };
      expectObservable(observed(input, seat, true), '^---------!').toBe('(gp)q', out);
      expectSubscriptions(check.subscriptions).toBe('-----^----!');
    });
  });

  it('says a check that failed or errored is not made, and asks for a username again, without counting a wrong password', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>(' ----a-b---c-d---e', { a: 'ann', b: 'right-one', c: 'ann', d: 'right-one', e: 'bob' });
      const verdicts = [cold<Verdict>('(r|)', { r: 'failed' }), cold<Verdict>('#', {}, new TypeError('ERR_INVALID_ARG_TYPE'))];
      const seat = { bus: memoryBus(), accounts: { ...annOnlyAccounts(0, cold), verify: () => verdicts.shift() ?? EMPTY } };
      expectObservable(observed(input, seat, true), '^-----------------!').toBe('(gp)q-(fp)q-(fp)j', {
        ...out,
        f: send(text.CHECK_FAILED),
        j: { type: 'joined', user: '7', nick: 'bob', room: '#main', at: 16, from: '10.0.0.1' },
      });
    });
  });

  it('tells the owner of an account that lost the name to an older lookalike, and asks for a username again', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>(' ----a-b---c', { a: 'ann', b: 'her-old-one', c: 'anne' });
      const seat = { bus: memoryBus(), accounts: { ...annOnlyAccounts(0, cold), verify: () => of<Verdict>('displaced') } };
      expectObservable(observed(input, seat, true), '^-----------!').toBe('(gp)q-(dp)j', {
        ...out,
        d: send(text.nameDisplaced('ann')),
        j: { type: 'joined', user: '7', nick: 'anne', room: '#main', at: 10, from: '10.0.0.1' },
      });
    });
  });

  it('tells the user an account change that errored was not saved, and goes on', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>(' ----a-b-c', { a: 'bob', b: '/register right-one', c: 'hi' });
      const seat = { bus: memoryBus(), accounts: { ...annOnlyAccounts(0, cold), change: () => cold<AccountOutcome>('#') } };
      expectObservable(observed(input, seat, true), '^---------!').toBe('(gp)j-n-s', {
        ...out,
        j: { type: 'joined', user: '7', nick: 'bob', room: '#main', at: 4, from: '10.0.0.1' },
        n: send(text.accountOutcome('register', 'failed', 'bob')),
        s: { type: 'said', user: '7', nick: 'bob', room: '#main', text: 'hi', at: 8 },
      });
    });
  });

  it('refuses a registered name over a plain connection when passwords need TLS', () => {
    scheduler().run(({ cold, expectObservable }) => {
      const input = cold<Input>('----a', { a: 'ann' });
      const seat = { bus: memoryBus(), accounts: annOnlyAccounts(0, cold) };
      expectObservable(observed(input, seat, false, { ...options, requireTlsForPasswords: true }), '^---------!').toBe('(gp)(tp)', {
        ...out, t: send(text.nameNeedsTls('ann')),
      });
    });
  });
});
