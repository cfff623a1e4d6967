import { isRecord } from '../chat/is-record';
import type { ModerationData } from '../chat/moderation';
import type { LiveData } from './live-data';
import type { AccountRecord } from './store';
import { accountRecord, listable, moderationData } from './validation';

/**
 * The data file's format: a log of changes, one JSON object a line, after a first line that
 * says it is chatd's and which version of the format it is. Reading it again, change by change,
 * gives what is kept; a compaction writes what is kept as the shortest such log.
 *
 * The version changes only when an older chatd could no longer read the file right; a chatd
 * refuses a file of a later version, so it never rewrites (and so never erases) what it does not
 * understand. Within a version, a later chatd may add fields to a record or kinds of line: an
 * older one keeps both as they are and writes them back at each compaction.
 */

/** The version of the data file's format that this chatd writes, and the latest it reads. */
export const DATA_FORMAT_VERSION = 1;

/** What the first line says the file is. */
const FORMAT_NAME = 'chatd data log';

/** One line of the log after the first. */
export type LogEntry =
  /** An account set, or removed (`record` null). */
  | { readonly type: 'account'; readonly key: string; readonly record: AccountRecord | null }
  /** Someone logged in with `key`'s password at `at`. */
  | { readonly type: 'login'; readonly key: string; readonly at: number }
  /** The accounts that lost their name to an older lookalike (rekey.ts), all of them. */
  | { readonly type: 'displaced'; readonly records: readonly AccountRecord[] }
  /** Moderation's part, whole (a few bans change at a time, and it is small beside the accounts). */
  | ({ readonly type: 'moderation' } & ModerationData)
  /** A kind of line a later version of this format added: kept as it came. */
  | { readonly type: 'unknown'; readonly line: string };

/** The first line of a file of this version. */
export const headerLine = (): string => `${JSON.stringify({ format: FORMAT_NAME, version: DATA_FORMAT_VERSION })}\n`;

/** `entry` as its line, newline included. */
export function entryLine(entry: LogEntry): string {
  if (entry.type === 'unknown') return `${entry.line}\n`;
  return `${JSON.stringify(entry)}\n`;
}


function parsed(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

/** The version the first line says, or the problem, as text, when it is not chatd's. */
export function headerVersion(line: string): number | string {
  const header = parsed(line);
  if (!isRecord(header) || header['format'] !== FORMAT_NAME) return `its first line does not say "${FORMAT_NAME}"`;
  const { version } = header;
  return typeof version === 'number' && Number.isInteger(version) && version >= 1 ? version : 'its version is not a whole number';
}

/** A line after the first as an entry, or the problem, as text, when it cannot be one. */
export function readEntry(line: string): LogEntry | string {
  const entry = parsed(line);
  if (!isRecord(entry) || typeof entry['type'] !== 'string') return 'a line is not an object with a type';
  switch (entry['type']) {
    case 'account': {
      const { key, record } = entry;
      const read = record === null ? null : accountRecord(record);
      if (typeof key !== 'string' || read === undefined) return 'an account line is not a key and a record';
      // Kept in the file as it is, as a line of a later version is, but never loaded or shown.
      return read === null || listable(read) ? { type: 'account', key, record: read } : { type: 'unknown', line };
    }
    case 'login': {
      const { key, at } = entry;
      return typeof key === 'string' && typeof at === 'number' ? { type: 'login', key, at } : 'a login line is not a key and a time';
    }
    case 'displaced': {
      const { records } = entry;
      const read = Array.isArray(records) ? records.map(accountRecord) : [undefined];
      if (read.some((record) => record === undefined)) return 'a displaced line is not a list of accounts';
      return { type: 'displaced', records: read.flatMap((record) => (record !== undefined && listable(record) ? [record] : [])) };
    }
    case 'moderation': {
      const moderation = moderationData(entry);
      return typeof moderation === 'string' ? moderation : { type: 'moderation', ...moderation };
    }
    default:
      return { type: 'unknown', line };
  }
}

/** Makes `entry`'s change to `live`; an unknown one is added to `unknown`, which a compaction writes back. */
export function replay(live: LiveData, entry: LogEntry, unknown: string[]): void {
  switch (entry.type) {
    case 'account': return live.setAccount(entry.key, entry.record);
    case 'login': return live.loggedIn(entry.key, entry.at);
    case 'displaced': return void (live.displaced = entry.records);
    case 'moderation': return live.setModeration({ ops: entry.ops, opAccounts: entry.opAccounts, bans: entry.bans, motd: entry.motd });
    case 'unknown': return void unknown.push(entry.line);
  }
}

/** What is kept, as the lines of the shortest log that makes it (header first), a few at a time. */
export function* snapshotLines(live: LiveData, unknown: readonly string[]): Generator<string> {
  yield headerLine();
  yield entryLine({ type: 'moderation', ...live.moderation });
  if (live.displaced.length > 0) yield entryLine({ type: 'displaced', records: live.displaced });
  for (const [key, record] of live.accounts) yield entryLine({ type: 'account', key, record });
  for (const line of unknown) yield `${line}\n`;
}
