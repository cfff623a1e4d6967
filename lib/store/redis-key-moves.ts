import { nameKey } from '../chat/names';
import { rekeyAccounts } from './rekey';
import type { AccountTable } from './store';

/** How many times a load moves keys before it gives up on data that keeps changing under it. */
export const MAX_MOVE_ATTEMPTS = 3;

/** The hashes whose fields are name keys, as read. */
export interface KeptHashes {
  readonly accounts: Record<string, string>;
  readonly ops: Record<string, string>;
  readonly bans: Record<string, string>;
}

/** One field to set or remove in a hash, if it is still as read (`kept`; none: unchecked). */
export interface KeyMove {
  readonly hash: 'accounts' | 'displaced' | 'ops' | 'bans';
  readonly field: string;
  readonly kept: string | undefined;
  readonly put: string | undefined;
}

/**
 * What moves every account, `/op` name and ban to the key nameKey gives it now (rekey.ts): an
 * account that comes to share one with an older account goes to the displaced; of two bans, the
 * later stays. Removals first, so that a field one of them frees can be set again.
 */
export function keyMoves(hashes: KeptHashes, accounts: AccountTable): KeyMove[] {
  const rekeyed = rekeyAccounts(Object.entries(accounts));
  const rekeyedAccounts = new Map(rekeyed.accounts);
  const accountMoves = rekeyed.changedKeys.map((field): KeyMove => {
    const record = rekeyedAccounts.get(field);
    return { hash: 'accounts', field, kept: ownField(hashes.accounts, field) ?? '', put: record === undefined ? undefined : JSON.stringify(record) };
  });
  const displaced = rekeyed.displaced.map(([field, record]): KeyMove => ({ hash: 'displaced', field, kept: undefined, put: JSON.stringify(record) }));
  const ops = Object.entries(hashes.ops).flatMap(([field, name]) => moved('ops', field, nameKey(name), name));
  const bans = Object.entries(hashes.bans)
    .map(([field, text]) => ({ field, text, ban: jsonOf(text) }))
    .sort((a, b) => atOf(a.ban) - atOf(b.ban)) // the later one put last
    .flatMap(({ field, text, ban }) => (isNamed(ban) ? moved('bans', field, nameKey(ban.name), text) : []));
  const all = [...accountMoves, ...displaced, ...ops, ...bans];
  return [...all.filter((move) => move.put === undefined), ...all.filter((move) => move.put !== undefined)];
}

/** Moving `text` from `field` to `key`, when they differ. */
const moved = (hash: 'ops' | 'bans', field: string, key: string, text: string): KeyMove[] =>
  key === field ? [] : [{ hash, field, kept: text, put: undefined }, { hash, field: key, kept: undefined, put: text }];

/** A hash's own field: never one an object inherits. */
export const ownField = (hash: Record<string, string>, field: string): string | undefined => (Object.hasOwn(hash, field) ? hash[field] : undefined);

/** `text` parsed, or undefined when it is not JSON (a load has refused it already). */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isNamed = (value: unknown): value is { readonly name: string } =>
  typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string';

/** When a ban read as JSON was made (0: unknown): the later of two bans of one name wins. */
export const atOf = (value: unknown): number =>
  typeof value === 'object' && value !== null && 'at' in value && typeof value.at === 'number' ? value.at : 0;
