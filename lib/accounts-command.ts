import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { nameKey } from './chat/names';
import { escapeControls } from './chat/sanitize';
import { errorText } from './error-text';
import { fileStore, readDataFolder } from './store/file';
import { redisStore } from './store/redis';
import type { AccountRecord, Store, StoreData } from './store/store';

/** `chatd accounts`: registered names, listed or removed, on the data folder or Redis, without a server. */
export const ACCOUNTS_USAGE = [
  'Usage: chatd accounts list [--data-dir DIR | --redis URL [--redis-prefix PREFIX]]',
  '       chatd accounts remove NAME [--data-dir DIR | --redis URL [--redis-prefix PREFIX]]',
  '',
  'Lists the registered names (name, registered, last login), or removes one so anyone may take it.',
  'remove needs the data folder free of a running chatd (use /unregister NAME as an operator there);',
  'on Redis the running nodes learn of a removal at once. The flags read CHATD_DATA_DIR, CHATD_REDIS',
  'and CHATD_REDIS_PREFIX when not given.',
  '',
].join('\n');

/** What `chatd accounts` was asked to do, and where; a string is a usage mistake. */
type AccountsCommand =
  | { readonly action: 'list' | 'remove'; readonly name: string; readonly open: () => Store; readonly dataDir: string | undefined }
  | string;

function readCommand(argv: readonly string[], env: NodeJS.ProcessEnv, defaultDataDir: string): AccountsCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    const flag = { type: 'string' } as const;
    parsed = parseArgs({ args: [...argv], options: { 'data-dir': flag, redis: flag, 'redis-prefix': flag }, strict: true, allowPositionals: true });
  } catch (err) {
    return errorText(err);
  }
  const text = (flag: string, variable: string): string | undefined => {
    const value = parsed.values[flag] ?? env[variable];
    return typeof value === 'string' ? value : undefined;
  };
  const [action, name = '', ...extra] = parsed.positionals;
  if (action !== 'list' && action !== 'remove') return `accounts takes list or remove, not '${action ?? ''}'`;
  if ((action === 'remove') !== (name !== '') || extra.length > 0) return action === 'list' ? 'accounts list takes no name' : 'accounts remove takes one NAME';
  const redis = text('redis', 'CHATD_REDIS');
  const prefix = text('redis-prefix', 'CHATD_REDIS_PREFIX') ?? 'chatd:';
  const dataDir = text('data-dir', 'CHATD_DATA_DIR') ?? defaultDataDir;
  if (redis === undefined && !existsSync(dataDir)) return `there is no data folder ${dataDir} (--data-dir)`; // a typo must not make one
  if (redis !== undefined) return { action, name, open: () => redisStore({ url: redis, prefix }), dataDir: undefined };
  return { action, name, open: () => fileStore(dataDir), dataDir };
}

/** A time as ISO 8601, or `-` when there is none or none a date can show (1e300 from a hand-edited file). */
const when = (at: number | undefined): string => {
  const date = new Date(at ?? NaN);
  return Number.isNaN(date.getTime()) ? '-' : date.toISOString();
};

/** One line of `accounts list`: name (its controls escaped: it goes to a terminal), registered, last login, tab-separated. */
const listed = (record: AccountRecord): string => `${escapeControls(record.name)}\t${when(record.registeredAt)}\t${when(record.lastLoginAt)}\n`;

/** Prints the accounts of `data`, by name. */
function list({ accounts }: StoreData, write: (text: string) => void): number {
  write('name\tregistered\tlast login\n');
  for (const record of Object.values(accounts).sort((a, b) => a.name.localeCompare(b.name, undefined, { numeric: true }))) write(listed(record));
  return 0;
}

async function remove(store: Store, name: string, write: (text: string) => void): Promise<number> {
  await store.load();
  const key = nameKey(name);
  const kept = await store.account(key);
  if (kept === undefined) throw new Error(`${name} is not registered`);
  if (!(await store.change({ type: 'account', key, record: null, expected: kept.hash }))) throw new Error(`${kept.name} changed meanwhile; nothing removed`);
  write(`removed ${kept.name}\n`);
  return 0;
}

/** Runs `chatd accounts ...`; resolves with the exit code (2 for a usage mistake, 1 when it could not be done). */
export async function accountsCommand(argv: readonly string[], env: NodeJS.ProcessEnv, defaultDataDir: string): Promise<number> {
  const command = readCommand(argv, env, defaultDataDir);
  if (typeof command === 'string') {
    process.stderr.write(`chatd: ${command}\n\n${ACCOUNTS_USAGE}`);
    return 2;
  }
  // `chatd accounts list | head`: what head does not read is not an error. Kept to the process's
  // end, which follows the command: the error of a write comes a turn after it.
  process.stdout.on('error', () => {});
  const write = (text: string) => void process.stdout.write(text);
  const fail = (err: unknown): number => {
    process.stderr.write(`chatd: ${errorText(err)}\n`);
    return 1;
  };
  // A list of a data folder reads it without taking it: a server may run on it meanwhile.
  if (command.action === 'list' && command.dataDir !== undefined) return readDataFolder(command.dataDir).then((data) => list(data, write), fail);
  const store = command.open();
  try {
    return command.action === 'list' ? list(await store.load(), write) : await remove(store, command.name, write);
  } catch (err) {
    return fail(err);
  } finally {
    await store.close();
  }
}
