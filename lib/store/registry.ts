import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { asyncScheduler, defer, firstValueFrom, type Observable, of, type OperatorFunction, type SchedulerLike, catchError, map, mergeMap, throwError } from 'rxjs';
import type { AccountOutcome, AccountRequest, Accounts, Verdict } from '../chat/accounts';
import { addressGroup } from '../chat/address-group';
import { nameKey } from '../chat/names';
import { ChecksBusyError, CheckQueue, PASSWORD_CHECKS_AT_ONCE } from './check-queue';
import { type AccountRecord, type AccountsChanged, accountId, type Store, type StoreData } from './store';
import { CHECK_ANSWER_GRACE_MS, DEFAULT_GUESS_LIMITS, type GuardedAnswer, type GuessLimits, GuessThrottle, memoryNameBuckets, type PasswordFigures, type Slowed } from './throttle';

/** scrypt's cost (N) for new hashes: Node's default, about 50 ms of one core per hash. */
export const SCRYPT_COST = 16_384;
export const SCRYPT_KEY_BYTES = 64;
export const SALT_BYTES = 16;
/** Address groups an account remembers as its owner's (the latest first). */
export const MAX_KNOWN_ADDRESSES = 10;
/** How long an address group that gave a name's password stays known to it. */
export const KNOWN_ADDRESS_MS = 30 * 24 * 60 * 60 * 1000;
/** How old a known address's date may grow before a login from it writes the account again:
 * a login every minute must not rewrite the data each time. */
export const KNOWN_ADDRESS_REFRESH_MS = 24 * 60 * 60 * 1000;
/** Random bytes in an account's id. */
export const ACCOUNT_ID_BYTES = 12;
/** Default for the names one address (an IPv6 /64) may register in REGISTRATION_WINDOW_MS. */
export const MAX_REGISTRATIONS_PER_HOUR = 10;
/** The window registrations from an address are counted in. */
export const REGISTRATION_WINDOW_MS = 60 * 60_000;
/** Default for how long an account nobody has logged into since it was registered is kept. */
export const ACCOUNT_EXPIRY_DAYS = 30;
export const DAY_MS = 24 * 60 * 60_000;

/** What the registry reports for a log: never a password or a hash. */
export type AccountChange =
  | { readonly kind: 'registered' | 'password-changed' | 'unregistered'; readonly name: string; readonly from: string }
  | { readonly kind: 'wrong-password'; readonly name: string; readonly from: string }
  | Slowed
  | { readonly kind: 'released'; readonly name: string; readonly by: string; readonly from: string }
  | { readonly kind: 'expired'; readonly name: string; readonly registeredAt: number }
  | { readonly kind: 'registrations-limited'; readonly name: string; readonly from: string }
  | { readonly kind: 'save-failed' | 'read-failed' | 'check-failed'; readonly error: Error };

export interface RegistryOptions {
  readonly cost: number;
  /** How wrong checks are spaced out. */
  readonly limits: GuessLimits;
  /** scrypt hashes computed at once. */
  readonly checksAtOnce: number;
  /** How long past the longest wait a login's check may take before it is answered 'unchecked'. */
  readonly answerGraceMs: number;
  /** The clock of the waits and of the known addresses' dates. */
  readonly scheduler: SchedulerLike;
  /** Names one address group may register per REGISTRATION_WINDOW_MS. */
  readonly maxRegistrationsPerHour: number;
  /** How long an account nobody has logged into since it was registered is kept. */
  readonly accountExpiryMs: number;
  /** True for a name that never expires: an operator's, which a stranger must not get by waiting. */
  readonly neverExpires: (name: string) => boolean;
  /** The time, in ms since the epoch. */
  readonly now: () => number;
  readonly report: (change: AccountChange) => void;
}

const DEFAULT_OPTIONS: RegistryOptions = {
  cost: SCRYPT_COST,
  limits: DEFAULT_GUESS_LIMITS,
  checksAtOnce: PASSWORD_CHECKS_AT_ONCE,
  answerGraceMs: CHECK_ANSWER_GRACE_MS,
  scheduler: asyncScheduler,
  maxRegistrationsPerHour: MAX_REGISTRATIONS_PER_HOUR,
  accountExpiryMs: ACCOUNT_EXPIRY_DAYS * DAY_MS,
  neverExpires: () => false,
  now: Date.now,
  report: () => {},
};

function hashOf(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, SCRYPT_KEY_BYTES, { N: cost, maxmem: 256 * cost * 8 }, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** True when `password` hashes to the record's hash; compared in constant time. */
async function matches(record: AccountRecord, password: string): Promise<boolean> {
  const expected = Buffer.from(record.hash, 'base64');
  const actual = await hashOf(password, Buffer.from(record.salt, 'base64'), record.cost);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

const errorOf = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Whether `group` gave the record's password within KNOWN_ADDRESS_MS of `now`. */
const knows = (record: AccountRecord, group: string, now: number, withinMs = KNOWN_ADDRESS_MS): boolean =>
  record.seenFrom?.some((seen) => seen.group === group && now - seen.at < withinMs) === true;

/** `record` with `group` known as of `now`, first; those gone stale or past MAX_KNOWN_ADDRESSES forgotten. */
function seenBy(record: AccountRecord, group: string, now: number): AccountRecord {
  const others = (record.seenFrom ?? []).filter((seen) => seen.group !== group && now - seen.at < KNOWN_ADDRESS_MS);
  return { ...record, seenFrom: [{ group, at: now }, ...others].slice(0, MAX_KNOWN_ADDRESSES) };
}

/** Registered names, which the server tells when they change elsewhere. */
export interface Registry extends Accounts {
  /** Reads again what `changed` names, from the store; resolves once done, or failed (reported). */
  refresh(changed: AccountsChanged): Promise<void>;
  /** The password checks so far, by how they ended, and the waits imposed. */
  passwordFigures(): PasswordFigures;
  /** Drops the accounts that have expired; resolves once done (a failure is reported). */
  expire(): Promise<void>;
}

/**
 * Registered names kept in `store`, starting from `loaded` (what it loaded); it keeps the
 * accounts it knows, so that `registered` answers at once, and reads an account again from the
 * store at each check (another node may have changed it), falling back on the one it knows when
 * the store cannot answer. Passwords are hashed with scrypt and a salt per name, a few at a time
 * (CheckQueue). Checks are spaced out per address group and per name (GuessThrottle), except
 * that an address group that gave the name's password lately skips the name's spacing; a right
 * password remembers its address group with the account, and is noted as a login. An address
 * group registers at most `maxRegistrationsPerHour` names a window. An account nobody logged
 * into after it was registered counts as not registered once `accountExpiryMs` have passed, and
 * `expire` drops it. A change takes effect once it is saved; one that cannot be saved changes
 * nothing.
 */
export function registry(store: Store, loaded: Pick<StoreData, 'accounts' | 'displaced'>, overrides: Partial<RegistryOptions> = {}): Registry {
  const { cost, limits, checksAtOnce, answerGraceMs, scheduler, maxRegistrationsPerHour, accountExpiryMs, neverExpires, now, report } = { ...DEFAULT_OPTIONS, ...overrides };
  const accounts = new Map(Object.entries(loaded.accounts)); // by name key
  /** True when nobody logged into `record` since its registration, longer ago than the expiry. */
  const expired = (record: AccountRecord): boolean =>
    record.lastLoginAt === undefined && record.registeredAt !== undefined && now() - record.registeredAt >= accountExpiryMs && !neverExpires(record.name);
  /** `record`, unless it has expired. */
  const inForce = (record: AccountRecord | undefined): AccountRecord | undefined => (record === undefined || expired(record) ? undefined : record);
  const displaced = new Map<string, AccountRecord[]>(); // by name key: the accounts that lost it to an older lookalike
  const keepDisplaced = (records: readonly AccountRecord[]) => {
    displaced.clear();
    for (const record of records) {
      const key = nameKey(record.name);
      displaced.set(key, [...(displaced.get(key) ?? []), record]);
    }
  };
  keepDisplaced(loaded.displaced);
  const queue = new CheckQueue(checksAtOnce);
  const names = store.nameBuckets?.(limits) ?? memoryNameBuckets(limits);
  const throttle = new GuessThrottle(names, limits, scheduler, report, answerGraceMs);

  const keep = (key: string, record: AccountRecord | undefined | null) => {
    if (record === undefined || record === null) accounts.delete(key);
    else accounts.set(key, record);
  };
  /** The account under `key` as the store has it now; the one known here when it cannot answer. */
  const current = async (key: string): Promise<AccountRecord | undefined> => {
    try {
      const record = await store.account(key);
      keep(key, record);
      return record;
    } catch {
      return accounts.get(key);
    }
  };
  /** Remembers `group` with the account, unless it is known already and lately; resolves once
   * written, or not (reported): the check's answer does not depend on it. */
  const remember = async (key: string, record: AccountRecord, group: string): Promise<void> => {
    const now = scheduler.now();
    if (knows(record, group, now, KNOWN_ADDRESS_REFRESH_MS)) return;
    const updated = seenBy(record, group, now);
    try {
      if (await store.change({ type: 'account', key, record: updated, expected: record.hash })) keep(key, updated);
      // else changed meanwhile: the next login tries again
    } catch (err) {
      report({ kind: 'save-failed', error: errorOf(err) });
    }
  };
  /** `work` in the hash queue's turn for `group`, ahead of others' for an `owner`. */
  const hashInTurn = <T>(group: string, work: () => Promise<T>, owner = false): Observable<T> => queue.run(group, defer(work), owner);
  /** Whether `password` is the account's now (read again: it may have changed during the wait). */
  const checkNow = (key: string, password: string, group: string, owner: boolean): Observable<boolean | 'unchecked'> =>
    hashInTurn(group, async () => {
      const record = await current(key);
      return record === undefined ? undefined : { record, right: await matches(record, password) };
    }, owner).pipe(
      mergeMap(async (checked): Promise<boolean | 'unchecked'> => {
        if (checked === undefined) return 'unchecked'; // unregistered during the wait
        if (checked.right) await remember(key, loggedIn(key, checked.record), group); // after the hash, its turn let go
        return checked.right;
      }),
      catchError((err: unknown) => (err instanceof ChecksBusyError ? of<'unchecked'>('unchecked') : throwError(() => err))),
    );
  /** Whether `password` is that of an account `name` lost to an older lookalike, hashed in the
   * queue's turn for `group`: a wrong guess costs no hashes outside it. */
  const lostTo = (name: string, password: string, group: string): Observable<Verdict> => {
    const lost = displaced.get(nameKey(name)) ?? [];
    if (lost.length === 0) return of<Verdict>('wrong');
    return hashInTurn(group, async () => {
      for (const record of lost) if (await matches(record, password)) return true;
      return false;
    }).pipe(
      map((found): Verdict => (found ? 'displaced' : 'wrong')),
      catchError((err: unknown) => (err instanceof ChecksBusyError ? of<Verdict>('unchecked') : throwError(() => err))),
    );
  };
  /** How the check of `password` for `name` ended, in its turn; undefined when `name` is not
   * registered. Whether it is, and the addresses it knows, are as this node knows them (changes
   * elsewhere are told); the check itself reads the account again. */
  const check = (name: string, password: string, address: string): Observable<GuardedAnswer | undefined> =>
    defer(() => {
      const key = nameKey(name);
      const group = addressGroup(address);
      const record = inForce(accounts.get(key));
      if (record === undefined) return of(undefined);
      const known = knows(record, group, scheduler.now());
      return throttle.guard({ group, key, known, check$: checkNow(key, password, group, known) });
    }).pipe(
      map((answer) => {
        if (answer === 'wrong') report({ kind: 'wrong-password', name, from: address });
        return answer;
      }),
    );
  /** `record`, whose password was just given, noted as logged into now; the store notes it too. */
  const loggedIn = (key: string, record: AccountRecord): AccountRecord => {
    const at = now();
    const noted = { ...record, lastLoginAt: at };
    keep(key, noted);
    void store.loggedIn(key, at); // never rejects; the login does not wait for its note (a compaction may be under way)
    return noted;
  };
  const commit = async (key: string, record: AccountRecord | null, expected: AccountRecord | undefined, change: AccountChange): Promise<AccountOutcome> => {
    let done: boolean;
    try {
      done = await store.change({ type: 'account', key, record, expected: expected?.hash ?? null });
    } catch (err) {
      report({ kind: 'save-failed', error: errorOf(err) });
      return 'failed';
    }
    if (!done) {
      await current(key); // changed elsewhere meanwhile
      return expected === undefined ? 'taken' : 'failed';
    }
    keep(key, record);
    report(change);
    return 'done';
  };
  /** A new hash of `password` for `name`, with a new account id, made in the queue's turn; rejects when the queue is full. */
  const newRecord = async (name: string, password: string, group: string): Promise<AccountRecord> => {
    const salt = randomBytes(SALT_BYTES);
    const hash = await firstValueFrom(hashInTurn(group, () => hashOf(password, salt, cost)));
    return { name, salt: salt.toString('base64'), hash: hash.toString('base64'), cost, id: randomBytes(ACCOUNT_ID_BYTES).toString('hex') };
  };
  // Changes run one at a time: each reads what the one before it saved.
  let changing: Promise<unknown> = Promise.resolve();
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const done = changing.then(work);
    changing = done.catch(() => {});
    return done;
  };
  const register = async (name: string, password: string, from: string): Promise<AccountOutcome> => {
    const key = nameKey(name);
    const kept = await current(key);
    if (inForce(kept) !== undefined) return 'taken';
    if ((await store.countRegistration(addressGroup(from), REGISTRATION_WINDOW_MS, now())) > maxRegistrationsPerHour) {
      report({ kind: 'registrations-limited', name, from });
      return 'limited';
    }
    const group = addressGroup(from);
    const made = seenBy({ ...(await newRecord(name, password, group)), registeredAt: now() }, group, scheduler.now());
    return commit(key, made, kept, { kind: 'registered', name, from }); // an expired one is replaced
  };
  const apply = async (request: AccountRequest, from: string): Promise<AccountOutcome> => {
    if (request.kind === 'register') return register(request.name, request.password, from);
    const key = nameKey(request.name);
    const kept = inForce(await current(key));
    if (kept === undefined) return 'not-registered'; // unregistered while its password was checked
    switch (request.kind) {
      case 'unregister': return commit(key, null, kept, { kind: 'unregistered', name: kept.name, from });
      case 'release': return commit(key, null, kept, { kind: 'released', name: kept.name, by: request.by, from });
      case 'password': {
        // The new password keeps what the account holds beside it (its id, which its grants name, its
        // known addresses, fields of later versions).
        const group = addressGroup(from);
        const changed = seenBy({ ...kept, ...(await newRecord(kept.name, request.newPassword, group)), id: accountId(kept) }, group, scheduler.now());
        return commit(key, changed, kept, { kind: 'password-changed', name: kept.name, from });
      }
    }
  };
  const refresh = async (changed: AccountsChanged): Promise<void> => {
    if (changed !== 'all') return void (await current(changed.key));
    try {
      const { accounts: all, displaced: lost } = await store.load();
      accounts.clear();
      for (const [key, record] of Object.entries(all)) accounts.set(key, record);
      keepDisplaced(lost);
    } catch (err) {
      report({ kind: 'read-failed', error: errorOf(err) });
    }
  };
  /** Drops `key`'s account if it has expired as the store has it now (a login elsewhere may have kept it). */
  const dropIfExpired = async (key: string): Promise<void> => {
    const kept = await current(key);
    if (kept === undefined || !expired(kept) || kept.registeredAt === undefined) return;
    await commit(key, null, kept, { kind: 'expired', name: kept.name, registeredAt: kept.registeredAt });
  };
  const expire = async (): Promise<void> => {
    const candidates: string[] = [];
    for (const [key, record] of accounts) if (expired(record)) candidates.push(key);
    for (const key of candidates) await inTurn(() => dropIfExpired(key)).catch(() => {});
  };

  /** `failed`, once the error is reported: a check or a change that throws costs its user that one answer. */
  const failing = <T>(failed: T): OperatorFunction<T, T> =>
    catchError((err: unknown) => {
      report({ kind: 'check-failed', error: errorOf(err) });
      return of(failed);
    });

  return {
    registered: (name) => inForce(accounts.get(nameKey(name))) !== undefined,
    accountOf: (name) => {
      const record = inForce(accounts.get(nameKey(name)));
      return record === undefined ? undefined : accountId(record);
    },
    verify: (name, password, address) =>
      check(name, password, address).pipe(
        mergeMap((answer): Observable<Verdict> => {
          if (answer === 'unchecked' || answer === 'right') return of(answer);
          return lostTo(name, password, addressGroup(address));
        }),
        failing<Verdict>('failed'),
      ),
    change: (request, address) =>
      (request.kind === 'register' || request.kind === 'release' ? of<GuardedAnswer>('right') : check(request.name, request.password, address)).pipe(
        mergeMap((answer) => {
          if (answer === undefined) return of<AccountOutcome>('not-registered');
          if (answer === 'unchecked') return of<AccountOutcome>('unchecked');
          return answer === 'right' ? defer(() => inTurn(() => apply(request, address))) : of<AccountOutcome>('wrong-password');
        }),
        failing<AccountOutcome>('failed'),
      ),
    refresh,
    passwordFigures: () => throttle.passwordFigures(),
    expire,
  };
}
