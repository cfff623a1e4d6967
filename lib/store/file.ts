import { constants } from 'node:fs';
import { access, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EMPTY_DATA, readData, type StoreData, StoreError, type WholeStore } from './store';
import { escapeControls } from '../chat/sanitize';

/** The file in the data folder that holds everything. */
export const DATA_FILE_NAME = 'chatd.json';

// Read by shape, not by `instanceof Error`: an fs error may come from another realm (jest's VM).
const message = (err: unknown): string =>
  typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string' ? err.message : String(err);
const codeOf = (err: unknown): unknown => (typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined);

/** Writes `text` to `path` and waits until it is on disk. */
async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

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

/**
 * A store in one JSON file, `DATA_FILE_NAME` in `dir` (made at the first save). A save writes
 * a temporary file beside it, syncs it, and renames it over the old one, so a crash at any
 * point leaves either the old file or the new one whole. Saves run one at a time, in order.
 */
export function fileStore(dir: string): WholeStore {
  const file = join(dir, DATA_FILE_NAME);
  const temporary = `${file}.tmp`;
  let saving: Promise<void> = Promise.resolve();

  const load = async (): Promise<StoreData> => {
    try {
      await checkWritable(dir);
    } catch (err) {
      throw new StoreError('CHAT_STORE_UNWRITABLE', `cannot write the data folder ${dir}: ${message(err)}`);
    }
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (codeOf(err) === 'ENOENT') return EMPTY_DATA;
      throw new StoreError('CHAT_STORE_CORRUPT', `cannot read ${file}: ${message(err)}`);
    }
    let data: StoreData | string;
    try {
      data = readData(JSON.parse(text));
    } catch (err) {
      data = escapeControls(message(err)); // JSON.parse quotes what it read, newlines and all
    }
    if (typeof data === 'string') throw new StoreError('CHAT_STORE_CORRUPT', `${file} is corrupt: ${data}`);
    return data;
  };

  const write = async (data: StoreData): Promise<void> => {
    try {
      await mkdir(dir, { recursive: true });
      await writeDurably(temporary, `${JSON.stringify(data, null, 2)}\n`);
      await rename(temporary, file);
    } catch (err) {
      await rm(temporary, { force: true }).catch(() => {});
      throw new StoreError('CHAT_STORE_UNWRITABLE', `cannot write ${file}: ${message(err)}`);
    }
  };

  const save = (data: StoreData): Promise<void> => {
    const saved = saving.then(() => write(data));
    saving = saved.catch(() => {}); // one failed save must not fail the ones after it
    return saved;
  };

  return { load, save };
}
