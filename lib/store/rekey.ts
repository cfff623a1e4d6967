import { nameKey } from '../chat/names';
import type { AccountRecord } from './store';

/**
 * Accounts kept by an older chatd, whose name keys nameKey no longer gives (it came to see that
 * `aIice` is `alice`), moved to the keys it gives now: what a store does with them at start.
 */
export interface Rekeyed {
  /** Every account under the key nameKey gives its name now, as entries (a table or a Map takes them). */
  readonly accounts: readonly (readonly [string, AccountRecord])[];
  /** The accounts that now share a key with an older one, which keeps the name; each with the key it was kept under. */
  readonly displaced: readonly (readonly [string, AccountRecord])[];
  /** The keys whose account moved or went: none when there was nothing to move. */
  readonly changedKeys: readonly string[];
}

/**
 * Older first: a record without a registration time is older than one with it (it was made
 * before chatd kept them); between equals, the one under the smaller key, so that every node
 * that moves the same accounts picks the same one.
 */
function olderFirst([keyA, a]: readonly [string, AccountRecord], [keyB, b]: readonly [string, AccountRecord]): number {
  const age = (a.registeredAt ?? -Infinity) - (b.registeredAt ?? -Infinity);
  if (age < 0 || age > 0) return age;
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

/** `accounts` (key, record) under the keys nameKey gives their names now; of accounts that come to share one, the older keeps it. */
export function rekeyAccounts(accounts: Iterable<readonly [string, AccountRecord]>): Rekeyed {
  const byKey = new Map<string, (readonly [string, AccountRecord])[]>();
  for (const entry of accounts) {
    const key = nameKey(entry[1].name);
    byKey.set(key, [...(byKey.get(key) ?? []), entry]);
  }
  const kept: [string, AccountRecord][] = [];
  const displaced: (readonly [string, AccountRecord])[] = [];
  const changedKeys = new Set<string>();
  for (const [key, sharing] of byKey) {
    const [older, ...younger] = [...sharing].sort(olderFirst);
    if (older === undefined) continue;
    kept.push([key, older[1]]);
    if (older[0] !== key) changedKeys.add(older[0]).add(key);
    for (const entry of younger) changedKeys.add(entry[0]);
    displaced.push(...younger);
  }
  return { accounts: kept, displaced, changedKeys: [...changedKeys] };
}
