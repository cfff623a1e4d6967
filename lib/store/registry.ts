import { randomBytes } from 'node:crypto';
import { defer, firstValueFrom, type Observable, of, type OperatorFunction, catchError, map, mergeMap, throwError } from 'rxjs';
export { ACCOUNT_EXPIRY_DAYS, type AccountChange, DAY_MS, MAX_REGISTRATIONS_PER_HOUR, REGISTRATION_WINDOW_MS, type RegistryOptions } from './registry-options';
export { KNOWN_ADDRESS_MS, MAX_KNOWN_ADDRESSES } from './passwords';
import { type AccountOutcome, type AccountRequest, type Accounts, MAX_KEYS, type Verdict } from '../chat/accounts';
import { addressGroup } from '../chat/address-group';
import { nameKey } from '../chat/names';
import { ACCOUNT_ID_BYTES, type AccountChange, DEFAULT_OPTIONS, REGISTRATION_WINDOW_MS, type RegistryOptions } from './registry-options';
import { errorOf, hashOf, KNOWN_ADDRESS_REFRESH_MS, knows, matches, SALT_BYTES, seenBy } from './passwords';
import { ChecksBusyError, CheckQueue } from './check-queue';
import { type AccountRecord, type AccountsChanged, accountId, type Store, type StoreData } from './store';
import { type GuardedAnswer, GuessThrottle, memoryNameBuckets, type PasswordFigures } from './throttle';

/** `record` with `key` tied to it (`tie`) or untied; an account holds MAX_KEYS at most (decide refuses more; two adds at once keep the latest). */
function withKey(record: AccountRecord, key: string, tie: boolean): AccountRecord {
  const others = (record.keys ?? []).filter((each) => each !== key);
  return { ...record, keys: tie ? [...others, key].slice(-MAX_KEYS) : others }; // none left is read back as absent
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
  const register = async (name: string, password: string, from: string, tied?: string): Promise<AccountOutcome> => {
    const key = nameKey(name);
    const kept = await current(key);
    if (inForce(kept) !== undefined) return 'taken';
    if ((await store.countRegistration(addressGroup(from), REGISTRATION_WINDOW_MS, now())) > maxRegistrationsPerHour) {
      report({ kind: 'registrations-limited', name, from });
      return 'limited';
    }
    const group = addressGroup(from);
    const made = seenBy({ ...(await newRecord(name, password, group)), registeredAt: now(), ...(tied === undefined ? {} : { keys: [tied] }) }, group, scheduler.now());
    return commit(key, made, kept, { kind: 'registered', name, from }); // an expired one is replaced
  };
  const apply = async (request: AccountRequest, from: string): Promise<AccountOutcome> => {
    if (request.kind === 'register') return register(request.name, request.password, from, request.key);
    const key = nameKey(request.name);
    const kept = inForce(await current(key));
    if (kept === undefined) return 'not-registered'; // unregistered while its password was checked
    switch (request.kind) {
      case 'unregister': return commit(key, null, kept, { kind: 'unregistered', name: kept.name, from });
      case 'release': return commit(key, null, kept, { kind: 'released', name: kept.name, by: request.by, from });
      case 'add-key': case 'remove-key': return commit(key, withKey(kept, request.key, request.kind === 'add-key'), kept, { kind: request.kind === 'add-key' ? 'key-added' : 'key-removed', name: kept.name, from });
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
    keysOf: (name) => inForce(accounts.get(nameKey(name)))?.keys ?? [],
    verify: (name, password, address) =>
      check(name, password, address).pipe(
        mergeMap((answer): Observable<Verdict> => {
          if (answer === 'unchecked' || answer === 'right') return of(answer);
          return lostTo(name, password, addressGroup(address));
        }),
        failing<Verdict>('failed'),
      ),
    change: (request, address) =>
      // A release, and a key change, come from whom the rules let make them without a password.
      ('password' in request && request.kind !== 'register' ? check(request.name, request.password, address) : of<GuardedAnswer>('right')).pipe(
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
