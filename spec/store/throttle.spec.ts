import { concat, defer, merge, mergeMap, type Observable, of, throwError, timer } from 'rxjs';
import { TestScheduler } from 'rxjs/testing';
import {
  Buckets, CheckTooLongError, DEFAULT_GUESS_LIMITS, type GuardedAnswer, guessLimits, type GuessLimits, GuessThrottle, memoryNameBuckets, reserved, type Slowed, spacing,
} from '../../lib/store/throttle';
import { scheduler as testScheduler } from '../support/marbles';

// Nothing leaks away within a spec unless it says so: the spacing is then 0, 0, 1, 2, 4, 8, 10, 10... s.
const limits: GuessLimits = { ...DEFAULT_GUESS_LIMITS, leakMs: Number.POSITIVE_INFINITY };
const answers = { w: 'wrong', r: 'right', u: 'unchecked' } satisfies Record<string, GuardedAnswer>;

/** A throttle on `scheduler`'s clock, and what it reported. */
function throttleOn(scheduler: TestScheduler, rule: GuessLimits = limits) {
  const slowed: Slowed[] = [];
  const throttle = new GuessThrottle(memoryNameBuckets(rule), rule, scheduler, (each) => slowed.push(each));
  /** A guess at `key`'s password from `group`, the password right or not, checked at once. */
  const guess = (group: string, key: string, right = false, known = false): Observable<GuardedAnswer> =>
    throttle.guard({ group, key, known, check$: of(right) });
  return { throttle, slowed, guess };
}

/** What `answers$` emits, each as `frame answer`, run in `scheduler`'s virtual time (1 frame = 1 ms) to its end. */
function timeline(scheduler: TestScheduler, answers$: Observable<GuardedAnswer>): string[] {
  const seen: string[] = [];
  scheduler.run(() => answers$.subscribe((answer) => seen.push(`${scheduler.now()} ${answer}`)));
  return seen;
}

describe('spacing', () => {
  it('spaces nothing within the free wrong checks, then doubles from 1 s up to the longest wait', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8, 20].map((level) => spacing(level, limits))).toEqual([0, 0, 0, 1000, 2000, 4000, 8000, 10000, 10000, 10000]);
  });

  it('holds the longest wait to half the login timeout, so that a password given in time is answered in time', () => {
    expect(guessLimits(3, 10_000, 60_000)).toEqual({ ...DEFAULT_GUESS_LIMITS, maxWaitMs: 10_000 });
    expect(guessLimits(5, 10_000, 8_000)).toEqual({ ...DEFAULT_GUESS_LIMITS, freeWrongChecks: 5, maxWaitMs: 4_000 });
  });

  it('forgets a wrong check per WRONG_CHECK_LEAK_MS of quiet', () => {
    const busy = { level: 9, at: 0, next: 10_000 };
    expect(reserved(busy, 6 * DEFAULT_GUESS_LIMITS.leakMs, DEFAULT_GUESS_LIMITS)?.reservation).toEqual({ slot: 360_000, level: 4 });
    expect(reserved(busy, 3_600_000, DEFAULT_GUESS_LIMITS)?.reservation).toEqual({ slot: 3_600_000, level: 1 });
  });
});

describe('GuessThrottle', () => {
  it('checks the right password after 9 wrong ones from one address, each check waiting at most the longest wait (10 s)', () => {
    const scheduler = testScheduler();
    const { guess, throttle } = throttleOn(scheduler);
    const tries = [...Array<boolean>(9).fill(false), true].map((right) => defer(() => guess('10.0.0.1', 'ann', right)));
    expect(timeline(scheduler, concat(...tries))).toEqual([
      '0 wrong', '0 wrong', '0 wrong', '1000 wrong', '3000 wrong', '7000 wrong', '15000 wrong', '25000 wrong', '35000 wrong', '45000 right',
    ]);
    expect(throttle.passwordFigures()).toEqual({ right: 1, wrong: 9, unchecked: 0, failed: 0, waits: 7, waitSeconds: 45 });
  });

  it('spaces guesses made at once from one address as if made one after another, and does not check those whose turn is past the longest wait', () => {
    const scheduler = testScheduler();
    const { guess, throttle, slowed } = throttleOn(scheduler);
    const atOnce = ['ann', 'bob', 'cy', 'dee', 'eve', 'fay', 'gus', 'hal'].map((name) => guess('10.0.0.1', name));
    expect(timeline(scheduler, merge(...atOnce))).toEqual([
      '0 wrong', '0 wrong', '0 wrong', '0 unchecked', '0 unchecked', '1000 wrong', '3000 wrong', '7000 wrong',
    ]);
    expect(throttle.passwordFigures()).toMatchObject({ wrong: 6, unchecked: 2, waits: 3, waitSeconds: 11 });
    expect(slowed).toEqual([{ kind: 'slowed', what: 'address', key: '10.0.0.1' }]); // once, as it starts
  });

  it('checks again once the spacing has passed: the address is slowed, never shut out', () => {
    const scheduler = testScheduler();
    const { guess } = throttleOn(scheduler);
    const burst = merge(...['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((name) => guess('10.0.0.1', name)));
    const later = timer(15_000, scheduler).pipe(mergeMap(() => guess('10.0.0.1', 'ann', true)));
    expect(timeline(scheduler, merge(burst, later))).toEqual(['0 wrong', '0 wrong', '0 wrong', '0 unchecked', '1000 wrong', '3000 wrong', '7000 wrong', '15000 right']);
  });

  it('spaces guesses at one name from many addresses as if they came from one', () => {
    const scheduler = testScheduler();
    const { guess, slowed } = throttleOn(scheduler);
    const fromMany = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7'].map((address) => guess(address, 'ann'));
    expect(timeline(scheduler, merge(...fromMany))).toEqual(['0 wrong', '0 wrong', '0 wrong', '0 unchecked', '1000 wrong', '3000 wrong', '7000 wrong']);
    expect(slowed).toEqual([{ kind: 'slowed', what: 'name', key: 'ann' }]); // each address alone is not slowed
  });

  it("checks the owner's known address at once while others guess the name; a stranger waits for the name's turn", () => {
    const scheduler = testScheduler();
    const { guess } = throttleOn(scheduler);
    const attack = merge(...['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5'].map((address) => guess(address, 'ann')));
    const stranger = timer(100, scheduler).pipe(mergeMap(() => guess('192.0.2.8', 'ann', true)));
    const owner = timer(200, scheduler).pipe(mergeMap(() => guess('192.0.2.7', 'ann', true, true)));
    expect(timeline(scheduler, merge(attack, stranger, owner))).toEqual(['0 wrong', '0 wrong', '0 wrong', '200 right', '1000 wrong', '3000 wrong', '7000 right']);
  });

  it("empties the name's count at a right password, and only the name's: a right one for the guesser's own name buys no guesses", () => {
    const scheduler = testScheduler();
    const { guess } = throttleOn(scheduler);
    const alternating = [false, true, false, true, false, true, false].map((right) => defer(() => guess('10.0.0.1', right ? 'mine' : 'ann', right)));
    expect(timeline(scheduler, concat(...alternating))).toEqual(['0 wrong', '0 right', '0 wrong', '0 right', '1000 wrong', '2000 right', '4000 wrong']);
    const afterOwner = [true, false, false, false].map((right) => defer(() => guess(`10.1.0.${right ? 1 : 2}`, 'bob', right)));
    expect(timeline(scheduler, concat(...afterOwner))).toEqual(['4000 right', '4000 wrong', '4000 wrong', '4000 wrong']);
  });

  it('never slows right passwords from one address one after another: many users behind one NAT', () => {
    const scheduler = testScheduler();
    const { guess } = throttleOn(scheduler);
    const logins = Array.from({ length: 20 }, (_, user) => defer(() => guess('10.0.0.1', `user${user}`, true)));
    expect(timeline(scheduler, concat(...logins))).toEqual(Array<string>(20).fill('0 right'));
  });

  it('lets waits decay with quiet time', () => {
    const scheduler = testScheduler();
    const { guess } = throttleOn(scheduler, DEFAULT_GUESS_LIMITS);
    const burst = merge(...['a', 'b', 'c', 'd', 'e', 'f'].map((name) => guess('10.0.0.1', name)));
    const afterAQuietHour = timer(3_600_000, scheduler).pipe(mergeMap(() => merge(guess('10.0.0.1', 'ann'), guess('10.0.0.1', 'bob'))));
    expect(timeline(scheduler, merge(burst, afterAQuietHour))).toEqual([
      '0 wrong', '0 wrong', '0 wrong', '1000 wrong', '3000 wrong', '7000 wrong', '3600000 wrong', '3600000 wrong',
    ]);
  });

  it('gives the charges back for a check that could not be made, and counts a failed one', () => {
    const scheduler = testScheduler();
    const { throttle } = throttleOn(scheduler);
    const attempt = (check$: Observable<boolean | 'unchecked'>) => throttle.guard({ group: '10.0.0.1', key: 'ann', known: false, check$ });
    const notMade = [1, 2, 3, 4].map(() => attempt(of('unchecked' as const)));
    expect(timeline(scheduler, concat(...notMade))).toEqual(['0 unchecked', '0 unchecked', '0 unchecked', '0 unchecked']);
    const errors: unknown[] = [];
    attempt(throwError(() => new Error('scrypt failed'))).subscribe({ error: (err: unknown) => errors.push(err) });
    expect(errors).toEqual([new Error('scrypt failed')]);
    expect(timeline(scheduler, concat(attempt(of(false)), attempt(of(false)), attempt(of(true))))).toEqual(['0 wrong', '0 wrong', '0 right']);
    expect(throttle.passwordFigures()).toMatchObject({ right: 1, wrong: 2, unchecked: 4, failed: 1, waits: 0 });
  });

  it('fails a check not answered within the longest wait and the grace, counting it and giving back the address\'s charge', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable }) => {
      const throttle = new GuessThrottle(memoryNameBuckets(limits), limits, scheduler, () => {}, 5_000);
      const never = throttle.guard({ group: '10.0.0.1', key: 'ann', known: false, check$: cold('-') });
      expectObservable(never).toBe('15s #', {}, new CheckTooLongError());
      scheduler.flush();
      expect(throttle.passwordFigures()).toMatchObject({ failed: 1 });
    });
  });

  it('neither waits nor checks once its subscriber goes', () => {
    const scheduler = testScheduler();
    scheduler.run(({ cold, expectObservable, expectSubscriptions }) => {
      const { throttle, guess } = throttleOn(scheduler);
      const check$ = cold('(r|)', { r: true });
      const burst = merge(...['a', 'b', 'c'].map((name) => guess('10.0.0.1', name)));
      const spaced = throttle.guard({ group: '10.0.0.1', key: 'ann', known: false, check$ });
      expectObservable(concat(burst, spaced), '^ 500ms !').toBe('(www)', answers);
      expectSubscriptions(check$.subscriptions).toBe([]);
    });
  });
});

describe('Buckets', () => {
  it('keeps at most its bound of keys, forgetting the longest untouched', () => {
    const buckets = new Buckets({ ...limits, freeWrongChecks: 0, maxWaitMs: 1000, firstSpacingMs: 1000 }, 2);
    expect(buckets.reserve('a', 0)).toEqual({ slot: 0, level: 1 });
    expect(buckets.reserve('b', 0)).toEqual({ slot: 0, level: 1 });
    expect(buckets.reserve('a', 0)).toEqual({ slot: 1000, level: 2 });
    buckets.reserve('c', 0); // b, the longest untouched, goes
    expect(buckets.reserve('b', 0)).toEqual({ slot: 0, level: 1 }); // and a with it
    expect(buckets.reserve('c', 0)).toEqual({ slot: 1000, level: 2 });
    expect(buckets.reserve('a', 0)).toEqual({ slot: 0, level: 1 });
  });
});
