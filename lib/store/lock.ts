import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreError } from './store-error';

/** The file in the data folder that says which process uses it: two writing one log would lose changes. */
export const LOCK_FILE_NAME = 'chatd.lock';

const codeOf = (err: unknown): unknown => (typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined);

/** True when a process `pid` runs (one we may not signal runs too). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return codeOf(err) === 'EPERM';
  }
}

/** The process named in the lock file, or undefined when there is none or it names none. */
async function holder(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/**
 * Takes the data folder `dir` for this process; rejects with CHAT_STORE_LOCKED, naming the
 * process, while another running process holds it. A lock left by a process that has ended is
 * taken over.
 */
export async function takeLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE_NAME);
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600);
      await handle.writeFile(`${process.pid}\n`).finally(() => handle.close());
      return;
    } catch (err) {
      if (codeOf(err) !== 'EEXIST') throw err;
    }
    const pid = await holder(path);
    if (pid === process.pid) return; // this process holds it already (a second store on the folder, in a test)
    if (pid !== undefined && isRunning(pid)) {
      throw new StoreError('CHAT_STORE_LOCKED', `the data folder ${dir} is in use by process ${pid} (${path}); stop it first`);
    }
    await rm(path, { force: true }); // its process has ended; another taking it meanwhile makes 'wx' fail again
  }
}

/** Lets go of the data folder, if this process holds it. */
export async function releaseLock(dir: string): Promise<void> {
  const path = join(dir, LOCK_FILE_NAME);
  if ((await holder(path)) === process.pid) await rm(path, { force: true });
}
