import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { defer, from, type Observable, of, type OperatorFunction, timer, catchError, map, mergeMap } from 'rxjs';
import type { AccountOutcome, AccountRequest, Accounts, Verdict } from '../chat/accounts';
import { nameKey } from '../chat/names';
import { type AccountRecord, type AccountsChanged, accountId, type Store, type StoreData } from './store';

/** scrypt's cost (N) for new hashes: Node's default, about 50 ms of one core per hash. */
export const SCRYPT_COST = 16_384;
export const SCRYPT_KEY_BYTES = 64;
export const SALT_BYTES = 16;
/** Random bytes in an account's id. */
export const ACCOUNT_ID_BYTES = 12;
/** The wait before checking a password from an address after its first wrong one; it doubles with each more. */
export const WRONG_PASSWORD_DELAY_MS = 1_000;
/** The longest wait a run of wrong passwords from one address comes to. */
export const MAX_WRONG_PASSWORD_DELAY_MS = 60_000;
/** Addresses whose wrong passwords are remembered; past this the longest-quiet one is forgotten. */
export const MAX_TRACKED_ADDRESSES = 10_000;

/** What the registry reports for a log: never a password or a hash. */
export type AccountChange =
  | { readonly kind: 'registered' | 'password-changed' | 'unregistered'; readonly name: string; readonly from: string }
  | { readonly kind: 'wrong-password'; readonly name: string; readonly from: string }
  | { readonly kind: 'save-failed' | 'read-failed' | 'check-failed'; readonly error: Error };

export interface RegistryOptions {
  readonly cost: number;
  readonly delayMs: number;
  readonly report: (change: AccountChange) => void;
}

const DEFAULT_OPTIONS: RegistryOptions = { cost: SCRYPT_COST, delayMs: WRONG_PASSWORD_DELAY_MS, report: () => {} };

function hashOf(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, SCRYPT_KEY_BYTES, { N: cost, maxmem: 256 * cost * 8 }, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** A record of `password` for `name`, registered at `registeredAt` (now, for a new one); `id` is
 * the account's, kept through a password change, or a new one. */
async function newRecord(
  name: string,
  password: string,
  cost: number,
  registeredAt: number | undefined = Date.now(),
  id = randomBytes(ACCOUNT_ID_BYTES).toString('hex'),
): Promise<AccountRecord> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await hashOf(password, salt, cost);
  return { name, salt: salt.toString('base64'), hash: hash.toString('base64'), cost, ...(registeredAt === undefined ? {} : { registeredAt }), id };
}

/** True when `password` hashes to the record's hash; compared in constant time. */
async function matches(record: AccountRecord, password: string): Promise<boolean> {
  const expected = Buffer.from(record.hash, 'base64');
  const actual = await hashOf(password, Buffer.from(record.salt, 'base64'), record.cost);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** Registered names, which the server tells when they change elsewhere. */
export interface Registry extends Accounts {
  /** Reads again what `changed` names, from the store; resolves once done, or failed (reported). */
  refresh(changed: AccountsChanged): Promise<void>;
}

/**
 * Registered names kept in `store`, starting from `loaded` (what it loaded); it keeps the
 * accounts it knows, so that `registered` answers at once, and reads an account again from the
 * store at each check (another node may have changed it), falling back on the one it knows when
 * the store cannot answer. Passwords are hashed with scrypt and a salt per name. Wrong passwords
 * from an address make its next checks wait, twice as long each time up to
 * MAX_WRONG_PASSWORD_DELAY_MS; a right one resets it. A change takes effect once it is saved;
 * one that cannot be saved changes nothing.
 */
export function registry(store: Store, loaded: Pick<StoreData, 'accounts' | 'displaced'>, overrides: Partial<RegistryOptions> = {}): Registry {
  const { cost, delayMs, report } = { ...DEFAULT_OPTIONS, ...overrides };
  const accounts = new Map(Object.entries(loaded.accounts)); // by name key
  const displaced = new Map<string, AccountRecord[]>(); // by name key: the accounts that lost it to an older lookalike
  const keepDisplaced = (records: readonly AccountRecord[]) => {
    displaced.clear();
    for (const record of records) {
      const key = nameKey(record.name);
      displaced.set(key, [...(displaced.get(key) ?? []), record]);
    }
  };
  keepDisplaced(loaded.displaced);
  /** Whether `password` is that of an account `name` lost to an older lookalike. */
  const lostTo = async (name: string, password: string): Promise<boolean> => {
    for (const record of displaced.get(nameKey(name)) ?? []) if (await matches(record, password)) return true;
    return false;
  };
  const wrongTries = new Map<string, number>(); // by address, the longest-quiet first

  const delayFor = (address: string): number => {
    const tries = wrongTries.get(address) ?? 0;
    return tries === 0 ? 0 : Math.min(MAX_WRONG_PASSWORD_DELAY_MS, delayMs * 2 ** (tries - 1));
  };
  const remember = (address: string, right: boolean, name: string) => {
    const tries = wrongTries.get(address) ?? 0;
    wrongTries.delete(address);
    if (right) return;
    report({ kind: 'wrong-password', name, from: address });
    wrongTries.set(address, tries + 1);
    const oldest = wrongTries.keys().next();
    if (wrongTries.size > MAX_TRACKED_ADDRESSES && oldest.done !== true) wrongTries.delete(oldest.value);
  };
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
  /** Whether `password` is `name`'s, after the address's wait; undefined when `name` is not registered. */
  const check = (name: string, password: string, address: string): Observable<boolean | undefined> =>
    timer(delayFor(address)).pipe(
      mergeMap(() => from(current(nameKey(name)))),
      mergeMap((record) => (record === undefined ? of(undefined) : from(matches(record, password)))),
      map((right) => {
        if (right !== undefined) remember(address, right, name);
        return right;
      }),
    );
  const commit = async (key: string, record: AccountRecord | null, expected: AccountRecord | undefined, change: AccountChange): Promise<AccountOutcome> => {
    let done: boolean;
    try {
      done = await store.change({ type: 'account', key, record, expected: expected?.hash ?? null });
    } catch (err) {
      report({ kind: 'save-failed', error: err instanceof Error ? err : new Error(String(err)) });
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
  const apply = async (request: AccountRequest, from: string): Promise<AccountOutcome> => {
    const key = nameKey(request.name);
    const kept = await current(key);
    if (request.kind === 'register') {
      if (kept !== undefined) return 'taken';
      return commit(key, await newRecord(request.name, request.password, cost), kept, { kind: 'registered', name: request.name, from });
    }
    if (kept === undefined) return 'not-registered'; // unregistered while its password was checked
    if (request.kind === 'unregister') return commit(key, null, kept, { kind: 'unregistered', name: kept.name, from });
    return commit(key, await newRecord(kept.name, request.newPassword, cost, kept.registeredAt, accountId(kept)), kept, { kind: 'password-changed', name: kept.name, from });
  };
  // Changes run one at a time: each reads what the one before it saved.
  let changing: Promise<unknown> = Promise.resolve();
  const applyInTurn = (request: AccountRequest, from: string): Promise<AccountOutcome> => {
    const applied = changing.then(() => apply(request, from));
    changing = applied.catch(() => {});
    return applied;
  };
  const refresh = async (changed: AccountsChanged): Promise<void> => {
    if (changed !== 'all') return void (await current(changed.key));
    try {
      const { accounts: all, displaced: lost } = await store.load();
      accounts.clear();
      for (const [key, record] of Object.entries(all)) accounts.set(key, record);
      keepDisplaced(lost);
    } catch (err) {
      report({ kind: 'read-failed', error: err instanceof Error ? err : new Error(String(err)) });
    }
  };

  /** `failed`, once the error is reported: a check or a change that throws costs its user that one answer. */
  const failing = <T>(failed: T): OperatorFunction<T, T> =>
    catchError((err: unknown) => {
      report({ kind: 'check-failed', error: err instanceof Error ? err : new Error(String(err)) });
      return of(failed);
    });

  return {
    registered: (name) => accounts.has(nameKey(name)),
    accountOf: (name) => {
      const record = accounts.get(nameKey(name));
      return record === undefined ? undefined : accountId(record);
    },
    verify: (name, password, address) =>
      check(name, password, address).pipe(
        mergeMap((right) => (right === true ? of<Verdict>('right') : from(lostTo(name, password)).pipe(map((lost): Verdict => (lost ? 'displaced' : 'wrong'))))),
        failing<Verdict>('failed'),
      ),
    change: (request, address) =>
      (request.kind === 'register' ? of(true) : check(request.name, request.password, address)).pipe(
        mergeMap((right) => {
          if (right === undefined) return of<AccountOutcome>('not-registered');
          return right ? defer(() => applyInTurn(request, address)) : of<AccountOutcome>('wrong-password');
        }),
        failing<AccountOutcome>('failed'),
      ),
    refresh,
  };
}
