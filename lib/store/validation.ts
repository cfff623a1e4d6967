import { isFingerprint, MAX_KEYS } from '../chat/accounts';
import type { Ban } from '../chat/events';
import { isRecord } from '../chat/is-record';
import type { ModerationData } from '../chat/moderation';
import { accountNameProblem, banProblem, motdProblem } from '../chat/wire';
import { type AccountRecord, accountTable, type SeenFrom, type StoreData } from './store';

/** Reading kept data back: what a file or Redis holds is checked field by field before chatd trusts it. */

const seenFrom = (value: unknown): SeenFrom | undefined =>
  isRecord(value) && typeof value['group'] === 'string' && typeof value['at'] === 'number' ? { group: value['group'], at: value['at'] } : undefined;

/** `value` as an account, or undefined when it is not one; fields it does not know are kept, and
 * known addresses it cannot read are dropped (they only spare their owner a wait). */
export function accountRecord(value: unknown): AccountRecord | undefined {
  if (!isRecord(value)) return undefined;
  const { name, salt, hash, cost, registeredAt, id, seenFrom: seen, lastLoginAt, keys: tied, ...unknown } = value;
  if (typeof name !== 'string' || typeof salt !== 'string' || typeof hash !== 'string' || typeof cost !== 'number') return undefined;
  if (registeredAt !== undefined && typeof registeredAt !== 'number') return undefined;
  if (id !== undefined && typeof id !== 'string') return undefined;
  const known = Array.isArray(seen) ? seen.flatMap((each) => seenFrom(each) ?? []) : [];
  // A fingerprint that is not one (a forged line) opens nothing: dropped, as are those past the bound.
  const keys = Array.isArray(tied) ? tied.filter((each): each is string => typeof each === 'string' && isFingerprint(each)).slice(0, MAX_KEYS) : [];
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
    ...(keys.length === 0 ? {} : { keys }),
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
