import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { escapeControls } from '../chat/sanitize';
import { LiveData } from './live-data';
import { DATA_FORMAT_VERSION, headerVersion, readEntry, replay } from './log';
import { rekeyAccounts } from './rekey';
import type { StoreData } from './store';
import { StoreError } from './store-error';
import { readData } from './validation';

/** Reading the data folder back: the log, the one JSON file from before it, and accounts under older name keys. */

/** The file in the data folder that holds everything: a log of changes (see log.ts). */
export const DATA_FILE_NAME = 'chatd.jsonl';
/** The one JSON file of chatd before the log; read, and moved into the log, at the first start. */
export const OLD_DATA_FILE_NAME = 'chatd.json';

// Read by shape, not by `instanceof Error`: an fs error may come from another realm (jest's VM).
export const message = (err: unknown): string =>
  typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string' ? err.message : String(err);
export const codeOf = (err: unknown): unknown => (typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined);

/** The file's bytes, or undefined when there is none. */
export async function readIfThere(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if (codeOf(err) === 'ENOENT') return undefined;
    throw new StoreError('CHAT_STORE_CORRUPT', `cannot read ${path}: ${message(err)}`);
  }
}

/** A log read back: what it keeps, its kinds of line this version does not know, and how many
 * of its bytes are whole lines (a crash may have torn the last one, which is left out). */
export interface ReadLog {
  readonly live: LiveData;
  readonly unknown: string[];
  readonly wholeBytes: number;
}

/** Reads a log; throws StoreError when it is not chatd's, is of a later version, or has a bad line. */
export function readLog(file: string, bytes: Buffer): ReadLog {
  const wholeBytes = bytes.lastIndexOf(0x0a) + 1; // after the last newline, a line torn by a crash
  const lines = bytes.subarray(0, wholeBytes).toString('utf8').split('\n');
  lines.pop(); // the '' after the last newline
  const corrupt = (problem: string) => new StoreError('CHAT_STORE_CORRUPT', `${file} is corrupt: ${escapeControls(problem)}`);
  const [header, ...entries] = lines;
  const live = new LiveData();
  const unknown: string[] = [];
  if (header === undefined) return { live, unknown, wholeBytes: 0 }; // torn before its first line was whole
  const version = headerVersion(header);
  if (typeof version === 'string') throw corrupt(version);
  if (version > DATA_FORMAT_VERSION) {
    throw new StoreError('CHAT_STORE_TOO_NEW', `${file} is of data format ${version}, written by a later chatd; this one reads format ${DATA_FORMAT_VERSION} and earlier`);
  }
  entries.forEach((line, index) => {
    const entry = readEntry(line);
    if (typeof entry === 'string') throw corrupt(`line ${index + 2}: ${entry}`);
    replay(live, entry, unknown);
  });
  return { live, unknown, wholeBytes };
}

/** The data of chatd's one JSON file, from before the log. */
export function readOldFile(file: string, bytes: Buffer): StoreData {
  let data: StoreData | string;
  try {
    data = readData(JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    data = escapeControls(message(err)); // JSON.parse quotes what it read, newlines and all
  }
  if (typeof data === 'string') throw new StoreError('CHAT_STORE_CORRUPT', `${file} is corrupt: ${data}`);
  return data;
}

/** Moves the accounts an older chatd kept under other name keys to the keys nameKey gives now
 * (rekey.ts), the ones that lose their name to the displaced; true when any moved. */
export function moveKeys(live: LiveData): boolean {
  const { accounts, displaced, changedKeys } = rekeyAccounts(live.accounts);
  if (changedKeys.length === 0) return false;
  live.accounts.clear();
  for (const [key, record] of accounts) live.accounts.set(key, record);
  live.displaced = [...live.displaced, ...displaced.map(([, record]) => record)];
  return true;
}

/**
 * What the data folder `dir` keeps, read without taking it or writing anything: for a look
 * while a server runs on it (what the server appends meanwhile, a torn last line included, is
 * read as far as it is whole). Rejects with StoreError as `load` does.
 */
export async function readDataFolder(dir: string): Promise<StoreData> {
  const file = join(dir, DATA_FILE_NAME);
  const bytes = await readIfThere(file);
  const read = bytes === undefined ? undefined : readLog(file, bytes);
  if (read !== undefined && read.wholeBytes > 0) return read.live.data();
  const oldFile = join(dir, OLD_DATA_FILE_NAME);
  const old = await readIfThere(oldFile);
  return old === undefined ? new LiveData().data() : readOldFile(oldFile, old);
}
