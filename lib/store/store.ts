import { NEVER, type Observable } from 'rxjs';
import type { Ban } from '../chat/events';
import { isRecord } from '../chat/is-record';
import { Moderation, type ModerationData, type SavedModerationEvent } from '../chat/moderation';
import { nameKey } from '../chat/names';
import { accountNameProblem, banProblem, motdProblem } from '../chat/wire';
import type { GuessLimits, NameBuckets } from './throttle';

/**
 * What chatd keeps across restarts, and the small interface a place to keep it implements
 * (a file, an append-only log of changes; Redis, shared by every node). Registration records live here, never in
 * the chat's state or its events: events travel on the bus, and a hash has no business there.
 */

/**
 * A registered name's password, as an scrypt hash with its own salt, and when it was registered
 * and last logged into. A record read from a store keeps the fields this version does not know
 * (a later version's, say): they are written back as they were.
 */
export interface AccountRecord {
  /** The name as it was registered. */
  readonly name: string;
  /** Base64 of the salt, made for this record alone. */
  readonly salt: string;
  /** Base64 of scrypt(password, salt). */
  readonly hash: string;
  /** scrypt's cost (N) when the hash was made, so a dearer cost later still checks older hashes. */
  readonly cost: number;
  /** When the name was registered, in ms since the epoch; absent in a record made before chatd
   * kept it. Of two accounts that come to share a key (rekey.ts), the older keeps the name. */
  readonly registeredAt?: number;
  /**
   * The account's own id, random, made at registration and kept through password changes: an
   * operator grant names it, so that it never passes to whoever registers the name next. Absent
   * from a record made before there were ids; `accountId` then stands in for it.
   */
  readonly id?: string;
  /** The address groups that gave this password lately, the latest first: their checks skip the
   * name's own spacing. Absent in a record made before there were any. */
  readonly seenFrom?: readonly SeenFrom[];
  /** When someone last logged in with its password (ms since the epoch); absent before the first time. */
  readonly lastLoginAt?: number;
}

/** An address group (see addressGroup) that gave a name's password, and when it last did (ms since the epoch). */
export interface SeenFrom {
  readonly group: string;
  readonly at: number;
}

/** The id of the account `record` is: its own, or for a record made before ids, one its first salt gives it. */
export const accountId = (record: AccountRecord): string => record.id ?? `salt:${record.salt}`;

/** Accounts by name key, in an object with no prototype (see accountTable), as JSON keeps them. */
export type AccountTable = Readonly<Record<string, AccountRecord>>;

/**
 * A new AccountTable of `entries`. Its keys are names users typed: in an object with a
 * prototype, `constructor` would be found registered, and `__proto__` would not be kept.
 */
export function accountTable(entries: Iterable<readonly [string, AccountRecord]> = []): Record<string, AccountRecord> {
  const table: Record<string, AccountRecord> = Object.create(null);
  for (const [key, record] of entries) table[key] = record;
  return table;
}

/** The account kept under `key`: an own entry of `accounts` only, whatever object it is. */
export const accountAt = (accounts: AccountTable, key: string): AccountRecord | undefined =>
  Object.hasOwn(accounts, key) ? accounts[key] : undefined;

/**
 * Everything kept: registered names by their name key (lookalikes share one), the accounts that
 * lost their name to an older lookalike when name keys changed (rekey.ts; their owners are told
 * at their next login), and moderation's.
 */
export interface StoreData extends ModerationData {
  readonly accounts: AccountTable;
  readonly displaced: readonly AccountRecord[];
}

export const EMPTY_DATA: StoreData = { accounts: accountTable(), displaced: [], ops: [], opAccounts: {}, bans: [], motd: '' };

/**
 * One change to what is kept: an account set (or removed, `record` null) only if the one kept
 * has the hash `expected` (null: none is kept), or a kept moderation event. A change touches one
 * part, so changes made at once (on two nodes of a cluster) both stay.
 */
export type StoreChange =
  | { readonly type: 'account'; readonly key: string; readonly record: AccountRecord | null; readonly expected: string | null }
  | SavedModerationEvent;

/** Which registered names changed elsewhere (on another node): one name key, or any of them. */
export type AccountsChanged = { readonly key: string } | 'all';

/** Where the data is kept, changed a part at a time. */
export interface Store {
  /** Everything kept now; EMPTY_DATA when nothing ever was. Rejects with StoreError. */
  load(): Promise<StoreData>;
  /** The account kept under `key` now. Rejects with StoreError. */
  account(key: string): Promise<AccountRecord | undefined>;
  /** Makes `change`: true once it is kept; false, changing nothing, when an account change's
   * `expected` is not the kept one's. Rejects with StoreError, nothing changed. */
  change(change: StoreChange): Promise<boolean>;
  /** Notes that `key`'s password was given at `at`; a lost note costs nothing but that time. Never rejects. */
  loggedIn(key: string, at: number): Promise<void>;
  /** Counts one registration from the address group `group` at `at` and resolves with how many
   * it has made in the window of `windowMs` that this one falls in. Rejects with StoreError. */
  countRegistration(group: string, windowMs: number, at: number): Promise<number>;
  /** Accounts changed by someone else; never errors or completes. Its subscription holds what
   * listens for them (a Redis connection); 'all' comes once listening starts, and after an outage. */
  readonly accountsChanged$: Observable<AccountsChanged>;
  /** Resolves once every change asked for so far is made or has failed, and the store lets go of what it holds. */
  close(): Promise<void>;
  /** Where the wrong checks of each name are counted, when every node must share them (Redis);
   * absent, each process counts its own. */
  nameBuckets?(limits: GuessLimits): NameBuckets;
}

export type StoreErrorCode = 'CHAT_STORE_CORRUPT' | 'CHAT_STORE_UNWRITABLE' | 'CHAT_STORE_UNREACHABLE' | 'CHAT_STORE_TOO_NEW' | 'CHAT_STORE_LOCKED';

/** The data cannot be read as chatd's, cannot be written, or its place cannot be reached; the message names the place. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}


const seenFrom = (value: unknown): SeenFrom | undefined =>
  isRecord(value) && typeof value['group'] === 'string' && typeof value['at'] === 'number' ? { group: value['group'], at: value['at'] } : undefined;

/** `value` as an account, or undefined when it is not one; fields it does not know are kept, and
 * known addresses it cannot read are dropped (they only spare their owner a wait). */
export function accountRecord(value: unknown): AccountRecord | undefined {
  if (!isRecord(value)) return undefined;
  const { name, salt, hash, cost, registeredAt, id, seenFrom: seen, lastLoginAt, ...unknown } = value;
  if (typeof name !== 'string' || typeof salt !== 'string' || typeof hash !== 'string' || typeof cost !== 'number') return undefined;
  if (registeredAt !== undefined && typeof registeredAt !== 'number') return undefined;
  if (id !== undefined && typeof id !== 'string') return undefined;
  const known = Array.isArray(seen) ? seen.flatMap((each) => seenFrom(each) ?? []) : [];
  return {
    ...unknown, // a later version's fields, written back as they came
    name,
    salt,
    hash,
    cost,
    ...(registeredAt === undefined ? {} : { registeredAt }),
    ...(id === undefined ? {} : { id }),
    ...(known.length === 0 ? {} : { seenFrom: known }),
    ...(typeof lastLoginAt === 'number' ? { lastLoginAt } : {}),
  };
}

/** False for an account whose name no user could have registered (control characters, a forged
 * line): it is skipped, never shown, and no one can log in with it. */
export const listable = (record: AccountRecord): boolean => accountNameProblem(record.name) === undefined;

function ban(value: unknown): Ban | undefined {
  if (!isRecord(value)) return undefined;
  const { name, address, until, by, reason } = value;
  if (typeof name !== 'string' || typeof address !== 'string' || typeof by !== 'string' || typeof reason !== 'string') return undefined;
  return until === null || typeof until === 'number' ? { name, address, until, by, reason } : undefined;
}

/** Moderation's part, each field absent in a file saved before there was moderation; the problem, as text, when it is not one. */
export function moderationData(json: Record<string, unknown>): ModerationData | string {
  const { ops = [], opAccounts = {}, bans = [], motd = '' } = json;
  if (!Array.isArray(ops) || !ops.every((name) => typeof name === 'string')) return '"ops" is not a list of names';
  if (!isRecord(opAccounts) || !Object.values(opAccounts).every((id) => typeof id === 'string')) return '"opAccounts" is not a map of names to account ids';
  if (!Array.isArray(bans)) return '"bans" is not a list';
  const read = bans.map(ban);
  if (read.some((each) => each === undefined)) return 'a ban is not a name, address, until, by and reason';
  if (typeof motd !== 'string') return '"motd" is not text';
  const accountOfOp: Record<string, string> = Object.create(null); // keyed by what users typed
  for (const [key, id] of Object.entries(opAccounts)) if (typeof id === 'string') accountOfOp[key] = id;
  // Shown to users as they are: a ban or a motd no operator could have typed (an escape sequence,
  // 100,000 characters) is left out, as the bus leaves out such an event.
  const shown = read.flatMap((each) => (each === undefined || banProblem(each) !== undefined ? [] : [each]));
  return { ops, opAccounts: accountOfOp, bans: shown, motd: motdProblem(motd) === undefined ? motd : '' };
}

/** Reads parsed JSON (`{ accounts: { key: record }, ops, bans, motd }`) as StoreData; the problem, as text, when it is not. */
export function readData(json: unknown): StoreData | string {
  if (!isRecord(json) || !isRecord(json['accounts'])) return 'no "accounts" object';
  const accounts = accountTable();
  for (const [key, value] of Object.entries(json['accounts'])) {
    const record = accountRecord(value);
    if (record === undefined) return `account ${JSON.stringify(key)} is not a name, salt, hash and cost`;
    if (listable(record)) accounts[key] = record;
  }
  const { displaced = [] } = json;
  const displacedRecords = Array.isArray(displaced) ? displaced.map(accountRecord) : [undefined];
  if (displacedRecords.some((record) => record === undefined)) return '"displaced" is not a list of accounts';
  const moderation = moderationData(json);
  const displacedListed = displacedRecords.flatMap((record) => (record !== undefined && listable(record) ? [record] : []));
  return typeof moderation === 'string' ? moderation : { accounts, displaced: displacedListed, ...moderation };
}

/**
 * Moderation's part of `data`, each `/op` kept before grants named an account bound to the
 * account registered under its name now (as opped, or else by its key), or to none ('') when none
 * is: such a grant then goes to that account alone, and never to whoever registers the name next.
 */
export function boundGrants(data: StoreData): ModerationData {
  const opAccounts: Record<string, string> = Object.create(null); // keyed by what users typed
  for (const [key, id] of Object.entries(data.opAccounts)) opAccounts[key] = id;
  // The account registered under the very name opped first: when name keys changed (rekey.ts),
  // the key may now be an older lookalike's, and the grant's account among the displaced.
  const named = new Map([...data.displaced, ...Object.values(data.accounts)].map((record) => [record.name, record]));
  for (const name of data.ops) {
    const key = nameKey(name);
    if (Object.hasOwn(opAccounts, key)) continue;
    const record = named.get(name) ?? accountAt(data.accounts, key);
    opAccounts[key] = record === undefined ? '' : accountId(record);
  }
  return { ops: data.ops, opAccounts, bans: data.bans, motd: data.motd };
}

/** The changes that keep the bindings `boundGrants` made for `data`, so that a later start, when
 * another account may hold the name, finds them. */
export function grantBindings(data: StoreData, bound: ModerationData, at: number): SavedModerationEvent[] {
  return data.ops.flatMap((name) => {
    const key = nameKey(name);
    const account = bound.opAccounts[key];
    if (Object.hasOwn(data.opAccounts, key) || account === undefined) return [];
    return [{ type: 'opped', user: '', nick: '', name, account, at }];
  });
}

/**
 * What is kept, live in memory: each change made in place (a copy of 100,000 accounts per
 * registration would stall the chat). The store that holds it writes each change first.
 */
export class LiveData {
  readonly accounts: Map<string, AccountRecord>;
  /** The accounts that lost their name to an older lookalike (rekey.ts). */
  displaced: readonly AccountRecord[];
  private moderationPart: ModerationData;

  constructor(data: StoreData = EMPTY_DATA) {
    this.accounts = new Map(Object.entries(data.accounts));
    this.displaced = data.displaced;
    this.moderationPart = { ops: data.ops, opAccounts: data.opAccounts, bans: data.bans, motd: data.motd };
  }

  get moderation(): ModerationData {
    return this.moderationPart;
  }

  /** A snapshot: the accounts table is a copy. */
  data(): StoreData {
    return { accounts: accountTable(this.accounts), displaced: this.displaced, ...this.moderationPart };
  }

  /** False when an account change's `expected` is not the kept one's. */
  accepts(change: StoreChange): boolean {
    return change.type !== 'account' || (this.accounts.get(change.key)?.hash ?? null) === change.expected;
  }

  /** Moderation's part as it is after `change`, made with the chat's own reducer, so the data keeps what the state keeps. */
  moderationAfter(change: SavedModerationEvent): ModerationData {
    const moderation = new Moderation();
    moderation.apply({ type: 'moderation-loaded', fixedOps: [], ...this.moderationPart, at: change.at });
    moderation.apply(change);
    return moderation.saved(change.at);
  }

  setAccount(key: string, record: AccountRecord | null): void {
    if (record === null) this.accounts.delete(key);
    else this.accounts.set(key, record);
  }

  setModeration(moderation: ModerationData): void {
    this.moderationPart = moderation;
  }

  /** Notes a login on the account kept under `key`, if there is one. */
  loggedIn(key: string, at: number): void {
    const record = this.accounts.get(key);
    if (record !== undefined) this.accounts.set(key, { ...record, lastLoginAt: at });
  }
}

/** Address groups whose registrations one process counts at once; past this the longest-quiet one is forgotten. */
export const MAX_COUNTED_ADDRESSES = 10_000;

/** Counts per address group in fixed windows, in one process (a cluster counts in Redis). */
export class WindowCounter {
  private readonly windows = new Map<string, { readonly start: number; count: number }>(); // longest-quiet first

  /** Counts one for `group` at `at`; how many it has now in its window of `windowMs`. */
  count(group: string, windowMs: number, at: number): number {
    const start = at - (at % windowMs);
    const kept = this.windows.get(group);
    this.windows.delete(group); // set again last: the map stays longest-quiet first
    const window = kept !== undefined && kept.start === start ? kept : { start, count: 0 };
    window.count += 1;
    this.windows.set(group, window);
    const oldest = this.windows.keys().next();
    if (this.windows.size > MAX_COUNTED_ADDRESSES && oldest.done !== true) this.windows.delete(oldest.value);
    return window.count;
  }
}

/** A store in memory, for a server whose registrations may end with it. */
export function memoryStore(): Store {
  const live = new LiveData();
  const registrations = new WindowCounter();
  return {
    load: async () => live.data(),
    account: async (key) => live.accounts.get(key),
    change: async (change) => {
      if (!live.accepts(change)) return false;
      if (change.type === 'account') live.setAccount(change.key, change.record);
      else live.setModeration(live.moderationAfter(change));
      return true;
    },
    loggedIn: async (key, at) => live.loggedIn(key, at),
    countRegistration: async (group, windowMs, at) => registrations.count(group, windowMs, at),
    accountsChanged$: NEVER,
    close: async () => {},
  };
}
