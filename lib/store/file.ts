import { constants } from 'node:fs';
import { access, chmod, type FileHandle, mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { NEVER } from 'rxjs';
import { entryLine, type LogEntry, snapshotLines } from './log';
import { LiveData } from './live-data';
import type { Store, StoreChange, StoreData } from './store';
import { StoreError } from './store-error';
import { WindowCounter } from './window-counter';
import { releaseLock, takeLock } from './lock';
import { codeOf, DATA_FILE_NAME, message, moveKeys, OLD_DATA_FILE_NAME, readIfThere, readLog, readOldFile } from './file-read';

export { DATA_FILE_NAME, OLD_DATA_FILE_NAME, readDataFolder } from './file-read';

/** A log smaller than this is never compacted: rewriting it would gain little. */
export const MIN_COMPACTION_BYTES = 1024 * 1024;
/** A log is compacted once it is this many times the size it had after its last compaction. */
export const COMPACTION_GROWTH_RATIO = 2;
/** Lines of a compaction written at once; between two writes the chat runs. */
export const COMPACTION_CHUNK_LINES = 500;

/** Resolves when `dir`, or the folder it would be made in, may be written to. */
async function checkWritable(dir: string): Promise<void> {
  for (let at = dir; ; at = dirname(at)) {
    try {
      await access(at, constants.W_OK);
      return;
    } catch (err) {
      if (codeOf(err) !== 'ENOENT' || dirname(at) === at) throw err;
    }
  }
}

/** Opens the log `path` for appending, mode 0600 whatever it had before (it holds password
 * hashes); rejects when it is not there: a log removed by hand is not made again line by line. */
async function openForAppend(path: string): Promise<FileHandle> {
  const handle = await open(path, constants.O_WRONLY | constants.O_APPEND);
  await handle.chmod(0o600);
  return handle;
}

/**
 * A store in the data folder `dir` (made at the first start): `DATA_FILE_NAME`, a log to which
 * each change is appended and synced before it takes effect, so a crash loses no change that
 * was answered; a line the crash tore is left out at the next start. The log is compacted (what
 * is kept written to a temporary file, a chunk at a time so the chat runs meanwhile, synced and
 * renamed over the log) once it has grown COMPACTION_GROWTH_RATIO times; a crash at any point
 * of it leaves the old log or the new one whole. Changes run one at a time, in order; a folder
 * is used by one process at a time (a lock file says which).
 */
export function fileStore(dir: string, minCompactionBytes = MIN_COMPACTION_BYTES): Store {
  const file = join(dir, DATA_FILE_NAME);
  const temporary = `${file}.tmp`;
  const registrations = new WindowCounter();
  let live = new LiveData();
  let unknown: string[] = [];
  let writable = false; // loaded, and not closed
  let logBytes = 0;
  let compactedBytes = 0;
  let opened: Promise<StoreData> | undefined;
  let queue: Promise<unknown> = Promise.resolve();
  const loginsToWrite = new Map<string, number>();

  /** Runs `work` after every change asked for before it; one that fails does not stop the next. */
  const inTurn = <T>(work: () => Promise<T>): Promise<T> => {
    const done = queue.then(work);
    queue = done.catch(() => {});
    return done;
  };
  const unwritable = (err: unknown) =>
    err instanceof StoreError ? err : new StoreError('CHAT_STORE_UNWRITABLE', `cannot write ${file}: ${message(err)}`);

  /** Writes what is kept as a new log, without holding the event loop, and appends to it from now on. */
  const compact = async (): Promise<void> => {
    await rm(temporary, { force: true }); // a leftover one keeps its mode; a new one is made 0600
    const handle = await open(temporary, 'wx', 0o600);
    let written = 0;
    try {
      let chunk: string[] = [];
      for (const line of snapshotLines(live, unknown)) {
        chunk.push(line);
        if (chunk.length < COMPACTION_CHUNK_LINES) continue;
        written += (await handle.write(chunk.join(''))).bytesWritten;
        chunk = [];
      }
      written += (await handle.write(chunk.join(''))).bytesWritten;
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    await syncFolder(dir); // the rename itself outlasts a crash
    logBytes = compactedBytes = written;
  };

  const load = async (): Promise<StoreData> => {
    try {
      await checkWritable(dir);
      await mkdir(dir, { recursive: true });
      await takeLock(dir);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError('CHAT_STORE_UNWRITABLE', `cannot write the data folder ${dir}: ${message(err)}`);
    }
    const bytes = await readIfThere(file);
    const read = bytes === undefined ? undefined : readLog(file, bytes);
    if (read !== undefined) {
      ({ live, unknown } = read);
      try {
        const log = await openForAppend(file);
        // The next line starts on a line of its own.
        await log.truncate(read.wholeBytes).finally(() => log.close());
      } catch (err) {
        throw unwritable(err);
      }
      logBytes = compactedBytes = read.wholeBytes;
    }
    const fromLog = read !== undefined && read.wholeBytes > 0;
    if (!fromLog) await readOldFileInto();
    if (moveKeys(live) || !fromLog) {
      await compact().catch((err: unknown) => {
        throw unwritable(err);
      });
    }
    writable = true;
    return live.data();
  };

  /** Takes what chatd's one JSON file from before the log keeps, if there is one. */
  const readOldFileInto = async (): Promise<void> => {
    const oldFile = join(dir, OLD_DATA_FILE_NAME);
    const old = await readIfThere(oldFile);
    if (old === undefined) return;
    live = new LiveData(readOldFile(oldFile, old));
    await chmod(oldFile, 0o600).catch(() => {}); // it holds hashes too, and stays as it was otherwise
  };

  /**
   * Appends `entries`, and waits until they are on disk when `durably`. The log is opened for
   * each append: one replaced or removed meanwhile (by hand) fails the change rather than
   * taking it into a file nobody reads.
   */
  const append = async (entries: readonly LogEntry[], durably: boolean): Promise<void> => {
    if (!writable) throw new StoreError('CHAT_STORE_UNWRITABLE', `${file} is not open: the store was not loaded, or is closed`);
    const text = entries.map(entryLine).join('');
    const before = logBytes;
    let log: FileHandle | undefined;
    try {
      log = await openForAppend(file);
      await log.write(text);
      if (durably) await log.datasync();
    } catch (err) {
      await log?.truncate(before).catch(() => {}); // a line half written would glue itself to the next
      throw unwritable(err);
    } finally {
      await log?.close();
    }
    logBytes += Buffer.byteLength(text);
  };
  let compactionQueued = false;
  /** Queues a compaction when the log has grown enough: after the change that grew it, which is answered first. */
  const compactIfGrown = (): void => {
    if (compactionQueued || logBytes < minCompactionBytes || logBytes < compactedBytes * COMPACTION_GROWTH_RATIO) return;
    compactionQueued = true;
    void inTurn(async () => {
      compactionQueued = false;
      await compact().catch(() => {}); // the log stays whole and in use; the next change tries again
    });
  };

  const change = (next: StoreChange): Promise<boolean> =>
    inTurn(async () => {
      if (!live.accepts(next)) return false;
      if (next.type === 'account') {
        await append([{ type: 'account', key: next.key, record: next.record }], true);
        live.setAccount(next.key, next.record);
      } else {
        const moderation = live.moderationAfter(next);
        await append([{ type: 'moderation', ...moderation }], true);
        live.setModeration(moderation);
      }
      compactIfGrown();
      return true;
    });

  /** Logins are written in batches, without waiting for the disk: losing one to a crash costs only its time. */
  const writeLogins = (): Promise<void> =>
    inTurn(async () => {
      const entries = [...loginsToWrite].map(([key, at]): LogEntry => ({ type: 'login', key, at }));
      loginsToWrite.clear();
      await append(entries, false);
      compactIfGrown();
    }).catch(() => {});

  const loggedIn = async (key: string, at: number): Promise<void> => {
    if (!live.accounts.has(key)) return;
    live.loggedIn(key, at);
    const batchStarted = loginsToWrite.size > 0;
    loginsToWrite.set(key, at);
    if (!batchStarted) await writeLogins();
  };

  return {
    load: () => (opened ??= load()),
    account: async (key) => live.accounts.get(key),
    change,
    loggedIn,
    countRegistration: async (group, windowMs, at) => registrations.count(group, windowMs, at),
    accountsChanged$: NEVER,
    close: () =>
      inTurn(async () => {
        writable = false;
        if (opened !== undefined) await releaseLock(dir);
      }),
  };
}

/** Syncs the folder, so that a rename in it is on disk; a system that cannot sync one (some do not) is not an error. */
async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // EINVAL or EISDIR where folders cannot be synced: the rename is as durable as the system makes it
  } finally {
    await handle.close();
  }
}
