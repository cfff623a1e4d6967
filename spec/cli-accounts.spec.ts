import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_FILE_NAME, fileStore } from '../lib/store/file';
import { redisStore } from '../lib/store/redis';
import type { AccountRecord, Store } from '../lib/store/store';
import { killAll, listeningPort, start } from './support/chatd';
import { describeWithRedis, type RedisServer, startRedis, uniquePrefix } from './support/redis';

const record = (name: string, registeredAt: number, lastLoginAt?: number): AccountRecord =>
  ({ name, salt: 'c2FsdA==', hash: 'aGFzaA==', cost: 16384, registeredAt, ...(lastLoginAt === undefined ? {} : { lastLoginAt }) });
const JAN_1 = Date.UTC(2026, 0, 1);
const JAN_2 = Date.UTC(2026, 0, 2);

/** Registers ann (logged into once) and Bob (never) in `store`, then lets it go. */
async function fill(store: Store): Promise<void> {
  await store.load();
  await store.change({ type: 'account', key: 'ann', record: record('ann', JAN_1), expected: null });
  await store.loggedIn('ann', JAN_2);
  await store.change({ type: 'account', key: 'bob', record: record('Bob', JAN_2), expected: null });
  await store.close();
}

/** Runs `chatd accounts ...args` to its end. */
const accounts = (...args: string[]) => start(['accounts', ...args]).exited;

const LISTED = ['name\tregistered\tlast login', 'ann\t2026-01-01T00:00:00.000Z\t2026-01-02T00:00:00.000Z', 'Bob\t2026-01-02T00:00:00.000Z\t-', ''].join('\n');

afterEach(async () => {
  await killAll();
});

describe('chatd accounts, on the data folder', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'chatd-cli-accounts-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the registered names with when they were registered and last logged into', async () => {
    await fill(fileStore(dir));
    expect(await accounts('list', '--data-dir', dir)).toEqual({ code: 0, signal: null, stdout: LISTED, stderr: '' });
  });

  it('lists a hand-edited data file without its forged name, and a time no date can show as -', async () => {
    const log = [
      '{"format":"chatd data log","version":1}',
      JSON.stringify({ type: 'account', key: 'evil', record: record('evil\u001b[2J\u001b]0;owned\u0007\nroot\t2020', JAN_1) }),
      JSON.stringify({ type: 'account', key: 'ann', record: record('ann', 1e300, JAN_2) }),
      '',
    ].join('\n');
    await writeFile(join(dir, DATA_FILE_NAME), log);
    const listed = ['name\tregistered\tlast login', 'ann\t-\t2026-01-02T00:00:00.000Z', ''].join('\n');
    expect(await accounts('list', '--data-dir', dir)).toEqual({ code: 0, signal: null, stdout: listed, stderr: '' });
  });

  it('removes a name, given by any of its spellings, and says when there is none', async () => {
    await fill(fileStore(dir));
    expect(await accounts('remove', 'BOB', '--data-dir', dir)).toEqual(expect.objectContaining({ code: 0, stdout: 'removed Bob\n' }));
    expect((await accounts('list', '--data-dir', dir)).stdout).not.toContain('Bob');
    expect(await accounts('remove', 'bob', '--data-dir', dir)).toEqual(expect.objectContaining({ code: 1, stderr: 'chatd: bob is not registered\n' }));
  });

  it('lists a folder a running server holds, but refuses to remove from it, saying which process holds it', async () => {
    await fill(fileStore(dir));
    const server = start(['--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--account-expiry-days', '100000']); // Bob stays
    await listeningPort(server);
    expect(await accounts('list', '--data-dir', dir)).toEqual({ code: 0, signal: null, stdout: LISTED, stderr: '' });
    const refused = await accounts('remove', 'ann', '--data-dir', dir);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`is in use by process ${server.child.pid ?? ''}`);
  });

  it('says how to use it, exit 2, when asked wrongly or for a data folder that is not there', async () => {
    const wrong = await accounts('remove', '--data-dir', dir);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('Usage: chatd accounts list');
    const nowhere = await accounts('list', '--data-dir', join(dir, 'typo'));
    expect(nowhere.code).toBe(2);
    expect(nowhere.stderr).toContain(`there is no data folder ${join(dir, 'typo')}`);
  });
});

describeWithRedis('chatd accounts, on Redis', () => {
  let redis: RedisServer;
  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await redis.stop();
  });

  it('lists and removes the names of the cluster under its prefix', async () => {
    const prefix = uniquePrefix();
    await fill(redisStore({ url: redis.url, prefix }));
    expect(await accounts('list', '--redis', redis.url, '--redis-prefix', prefix)).toEqual({ code: 0, signal: null, stdout: LISTED, stderr: '' });
    expect((await accounts('list', '--redis', redis.url)).stdout).toBe('name\tregistered\tlast login\n'); // another prefix: none
    expect(await accounts('remove', 'ann', '--redis', redis.url, '--redis-prefix', prefix)).toEqual(expect.objectContaining({ code: 0, stdout: 'removed ann\n' }));
    const left = redisStore({ url: redis.url, prefix });
    expect(Object.keys((await left.load()).accounts)).toEqual(['bob']);
    await left.close();
  });
});
