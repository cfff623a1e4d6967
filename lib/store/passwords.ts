import { scrypt, timingSafeEqual } from 'node:crypto';
import type { AccountRecord } from './store';

/** A registered name's password: its scrypt hash, and the address groups that gave it lately. */

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

/** scrypt of `password` with `salt` at `cost`. */
export function hashOf(password: string, salt: Buffer, cost: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, SCRYPT_KEY_BYTES, { N: cost, maxmem: 256 * cost * 8 }, (err, key) => (err === null ? resolve(key) : reject(err)));
  });
}

/** True when `password` hashes to the record's hash; compared in constant time. */
export async function matches(record: AccountRecord, password: string): Promise<boolean> {
  const expected = Buffer.from(record.hash, 'base64');
  const actual = await hashOf(password, Buffer.from(record.salt, 'base64'), record.cost);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export const errorOf = (err: unknown): Error => (err instanceof Error ? err : new Error(String(err)));

/** Whether `group` gave the record's password within KNOWN_ADDRESS_MS of `now`. */
export const knows = (record: AccountRecord, group: string, now: number, withinMs = KNOWN_ADDRESS_MS): boolean =>
  record.seenFrom?.some((seen) => seen.group === group && now - seen.at < withinMs) === true;

/** `record` with `group` known as of `now`, first; those gone stale or past MAX_KNOWN_ADDRESSES forgotten. */
export function seenBy(record: AccountRecord, group: string, now: number): AccountRecord {
  const others = (record.seenFrom ?? []).filter((seen) => seen.group !== group && now - seen.at < KNOWN_ADDRESS_MS);
  return { ...record, seenFrom: [{ group, at: now }, ...others].slice(0, MAX_KNOWN_ADDRESSES) };
}
