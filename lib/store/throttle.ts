import { defer, type Observable, of, type SchedulerLike, timer, catchError, map, mergeMap, tap, throwError, timeout } from 'rxjs';

/**
 * How password guessing is slowed: each address group and each registered name has a leaky
 * bucket of its recent wrong checks and a time before which its next check may not run. Every
 * check is charged to both buckets when it is asked for (so checks made at once are spaced as if
 * made one after another), and runs once both allow it. A check whose turn would come later than
 * the longest wait is not made at all: it is answered 'unchecked', and charges nothing.
 */

/** Wrong checks a bucket may hold before the checks after them are spaced out. */
export const FREE_WRONG_CHECKS = 3;
/** The spacing after the first wrong check past the free ones; it doubles with each more. */
export const FIRST_CHECK_SPACING_MS = 1_000;
/** The longest any check waits for its turn (also the widest spacing): well below the login
 * timeout, so a right password given within it is always checked. */
export const MAX_CHECK_WAIT_MS = 10_000;
/** Quiet time in which a bucket forgets one wrong check. */
export const WRONG_CHECK_LEAK_MS = 60_000;
/** Address groups (and, without Redis, names) whose buckets are kept; past this the longest-untouched goes. */
export const MAX_TRACKED_BUCKETS = 10_000;

/** The figures of the rule; see the constants above for each. */
export interface GuessLimits {
  readonly freeWrongChecks: number;
  readonly firstSpacingMs: number;
  readonly maxWaitMs: number;
  readonly leakMs: number;
}

/** The rule as README states it: 3 free, then 1 s doubling to 10 s, one forgotten per minute. */
export const DEFAULT_GUESS_LIMITS: GuessLimits = {
  freeWrongChecks: FREE_WRONG_CHECKS,
  firstSpacingMs: FIRST_CHECK_SPACING_MS,
  maxWaitMs: MAX_CHECK_WAIT_MS,
  leakMs: WRONG_CHECK_LEAK_MS,
};

/** The rule's figures with `freeWrongChecks` and the longest wait `maxWaitMs`, held to half the
 * login timeout, so that a password given in time is answered in time. */
export function guessLimits(freeWrongChecks: number, maxWaitMs: number, loginTimeoutMs: number): GuessLimits {
  return { ...DEFAULT_GUESS_LIMITS, freeWrongChecks, maxWaitMs: Math.min(maxWaitMs, loginTimeoutMs / 2) };
}

/** One key's recent wrong checks (fractional: they leak away) at `at`, and the earliest its next check may run. */
export interface Bucket {
  readonly level: number;
  readonly at: number;
  readonly next: number;
}

/** When a reserved check may run, and the bucket's level with it counted. */
export interface Reservation {
  readonly slot: number;
  readonly level: number;
}

/** The spacing a bucket holding `level` wrong checks puts before its next check: none while it
 * holds fewer than the free ones (a part of one leaked away still counts, so that checks made
 * a moment apart are spaced as checks made at once), then smooth in the level, so that what
 * leaks away shortens it a little at a time. */
export function spacing(level: number, limits: GuessLimits): number {
  if (Math.ceil(level) < limits.freeWrongChecks) return 0;
  return Math.min(limits.maxWaitMs, limits.firstSpacingMs * 2 ** (level - limits.freeWrongChecks));
}

/** `bucket` at `now`, what leaked away since gone. */
export function leaked(bucket: Bucket | undefined, now: number, limits: GuessLimits): Bucket {
  if (bucket === undefined) return { level: 0, at: now, next: now };
  return { level: Math.max(0, bucket.level - Math.max(0, now - bucket.at) / limits.leakMs), at: now, next: bucket.next };
}

/** `bucket` with one more check reserved at `now`, or undefined when its turn would be past the longest wait. */
export function reserved(bucket: Bucket | undefined, now: number, limits: GuessLimits): { bucket: Bucket; reservation: Reservation } | undefined {
  const drained = leaked(bucket, now, limits);
  const slot = Math.max(now, drained.next);
  if (slot - now > limits.maxWaitMs) return undefined;
  const level = drained.level + 1;
  return { bucket: { level, at: now, next: slot + spacing(level, limits) }, reservation: { slot, level } };
}

/** `bucket` with one check given back (it was right, or never made). */
export function refunded(bucket: Bucket | undefined, now: number, limits: GuessLimits): Bucket {
  const drained = leaked(bucket, now, limits);
  return { ...drained, level: Math.max(0, drained.level - 1) };
}

/** Buckets by key, in memory, the least recently touched forgotten past `maxKeys`. */
export class Buckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limits: GuessLimits,
    private readonly maxKeys = MAX_TRACKED_BUCKETS,
  ) {}

  /** Reserves a check for `key` at `now`; undefined when its turn is past the longest wait. */
  reserve(key: string, now: number): Reservation | undefined {
    const made = reserved(this.buckets.get(key), now, this.limits);
    if (made === undefined) return undefined;
    this.keep(key, made.bucket);
    return made.reservation;
  }

  refund(key: string, now: number): void {
    if (this.buckets.has(key)) this.keep(key, refunded(this.buckets.get(key), now, this.limits));
  }

  reset(key: string): void {
    this.buckets.delete(key);
  }

  private keep(key: string, bucket: Bucket): void {
    this.buckets.delete(key); // re-inserted last: the Map's order is the touch order
    this.buckets.set(key, bucket);
    const oldest = this.buckets.keys().next();
    if (this.buckets.size > this.maxKeys && oldest.done !== true) this.buckets.delete(oldest.value);
  }
}

/**
 * The names' buckets, shared by every node of a cluster (in Redis) or kept here. Each answer
 * comes as an Observable that emits once and completes; a store that cannot answer errors.
 */
export interface NameBuckets {
  /** Reserves a check of `key`'s password at `now`; undefined when its turn is past the longest wait. */
  reserve(key: string, now: number): Observable<Reservation | undefined>;
  /** Gives back one check of `key` (not made); best effort. */
  refund(key: string, now: number): void;
  /** Forgets `key`'s wrong checks: its password was given. Best effort. */
  reset(key: string): void;
}

/** Names' buckets in this process's memory, for a server without Redis. */
export function memoryNameBuckets(limits: GuessLimits): NameBuckets {
  const buckets = new Buckets(limits);
  return {
    reserve: (key, now) => of(buckets.reserve(key, now)),
    refund: (key, now) => buckets.refund(key, now),
    reset: (key) => buckets.reset(key),
  };
}

/** How long past the longest wait a password check may take (the hash queue, the store) before it fails. */
export const CHECK_ANSWER_GRACE_MS = 10_000;

/** A password check that was not answered within the longest wait and its grace. */
export class CheckTooLongError extends Error {
  readonly code = 'CHAT_CHECK_TOO_LONG';

  constructor() {
    super('a password check took too long');
  }
}

/** How a guarded check ended: the password was right, wrong, or not checked (its turn was too far off, or the check failed). */
export type GuardedAnswer = 'right' | 'wrong' | 'unchecked';

/** What the throttle tells a log: a bucket that starts spacing checks out. */
export interface Slowed {
  readonly kind: 'slowed';
  readonly what: 'address' | 'name';
  readonly key: string;
}

/** Password checks counted by how they ended, and the waits imposed: what the metrics show. */
export interface PasswordFigures {
  readonly right: number;
  readonly wrong: number;
  readonly unchecked: number;
  readonly failed: number;
  readonly waits: number;
  readonly waitSeconds: number;
}

/** The figures before any check. */
export const NO_PASSWORD_FIGURES: PasswordFigures = { right: 0, wrong: 0, unchecked: 0, failed: 0, waits: 0, waitSeconds: 0 };

/** A check to guard: what it asks about, and the check itself, which says whether the password is right. */
export interface GuardedCheck {
  /** The asker's address group (see addressGroup). */
  readonly group: string;
  /** The name key of the name whose password is checked. */
  readonly key: string;
  /** True when `group` has given this name's password before: it skips the name's bucket. */
  readonly known: boolean;
  /** Emits whether the password is right, or 'unchecked' when it could not be checked now. */
  readonly check$: Observable<boolean | 'unchecked'>;
}

/**
 * Runs password checks at the pace the buckets allow. A right check gives its charge back to
 * the address and empties the name's bucket (never the address's: a right login to one's own
 * name must not buy guesses at another's); a wrong one keeps both charges.
 */
export class GuessThrottle {
  private readonly addresses: Buckets;
  private readonly figures: { -readonly [K in keyof PasswordFigures]: number } = { ...NO_PASSWORD_FIGURES };

  constructor(
    private readonly names: NameBuckets,
    private readonly limits: GuessLimits,
    private readonly scheduler: SchedulerLike,
    private readonly report: (slowed: Slowed) => void,
    /** How long past the longest wait a check may take (the hash queue, the store) before it fails with CheckTooLongError. */
    private readonly answerGraceMs = CHECK_ANSWER_GRACE_MS,
  ) {
    this.addresses = new Buckets(limits);
  }

  /** The checks and waits so far. */
  passwordFigures(): PasswordFigures {
    return { ...this.figures };
  }

  /** `guarded.check$` once its turn comes; emits once, then completes; errors when the check or
   * the names' buckets do, or with CheckTooLongError when no answer comes within the longest wait
   * and the grace (the check counted as failed, the address's charge given back). */
  guard({ group, key, known, check$ }: GuardedCheck): Observable<GuardedAnswer> {
    return defer(() => {
      const now = this.scheduler.now();
      const byAddress = this.addresses.reserve(group, now);
      if (byAddress === undefined) return of(this.unchecked());
      this.noticeSlowed('address', group, byAddress);
      const byName$ = known ? of({ slot: now, level: 0 }) : this.names.reserve(key, now);
      return byName$.pipe(
        mergeMap((byName) => {
          if (byName === undefined) return of(this.giveBack(group, key, false));
          this.noticeSlowed('name', key, byName);
          return this.waitAndCheck(Math.max(byAddress.slot, byName.slot) - now, { group, key, known, check$ });
        }),
        // The login deadline waits for this answer: a store that hangs must not hold a connection for good.
        timeout({ first: this.limits.maxWaitMs + this.answerGraceMs, with: () => throwError(() => new CheckTooLongError()), scheduler: this.scheduler }),
        catchError((err: unknown) => {
          this.figures.failed += 1;
          this.addresses.refund(group, this.scheduler.now());
          return throwError(() => err);
        }),
      );
    });
  }

  private waitAndCheck(waitMs: number, { group, key, known, check$ }: GuardedCheck): Observable<GuardedAnswer> {
    if (waitMs > 0) {
      this.figures.waits += 1;
      this.figures.waitSeconds += waitMs / 1000;
    }
    const checked$ = waitMs > 0 ? timer(waitMs, this.scheduler).pipe(mergeMap(() => check$)) : check$;
    return checked$.pipe(
      map((right): GuardedAnswer => {
        if (right === 'unchecked') return this.giveBack(group, key, !known);
        if (!right) {
          this.figures.wrong += 1;
          return 'wrong';
        }
        this.figures.right += 1;
        this.addresses.refund(group, this.scheduler.now());
        this.names.reset(key);
        return 'right';
      }),
      tap({ error: () => (known ? undefined : this.names.refund(key, this.scheduler.now())) }),
    );
  }

  /** A check not made: its charges go back, so that refusing it costs no one a later turn. */
  private giveBack(group: string, key: string, nameReserved: boolean): GuardedAnswer {
    const now = this.scheduler.now();
    this.addresses.refund(group, now);
    if (nameReserved) this.names.refund(key, now);
    return this.unchecked();
  }

  private unchecked(): GuardedAnswer {
    this.figures.unchecked += 1;
    return 'unchecked';
  }

  /** Reports a bucket whose reservation just passed the free checks: once as it starts, not at every guess. */
  private noticeSlowed(what: Slowed['what'], key: string, { level }: Reservation): void {
    const free = this.limits.freeWrongChecks;
    if (Math.ceil(level) >= free && Math.ceil(level - 1) < free) this.report({ kind: 'slowed', what, key });
  }
}
