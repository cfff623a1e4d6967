import type { ModerationData, SavedModerationEvent } from '../chat/moderation';
import { nameKey } from '../chat/names';
import { accountAt, accountId, type StoreData } from './store';

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
