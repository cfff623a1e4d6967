import type { Observable } from 'rxjs';
import type { ModerationData, SavedModerationEvent } from '../chat/moderation';
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
  /** Fingerprints (`SHA256:`...) of the public keys that open the name over SSH without its password; absent when none. */
  readonly keys?: readonly string[];
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
