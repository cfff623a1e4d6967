import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_FILE_NAME, fileStore, OLD_DATA_FILE_NAME } from '../../lib/store/file';
import { LOCK_FILE_NAME } from '../../lib/store/lock';
import { DATA_FORMAT_VERSION } from '../../lib/store/log';
import { type AccountRecord, accountTable, EMPTY_DATA, type Store, type StoreChange } from '../../lib/store/store';

let dir: string;
const opened: Store[] = [];
const record = (name: string, hash = 'aGFzaA=='): AccountRecord => ({ name, salt: 'c2FsdA==', hash, cost: 16384 });
const set = (key: string, next: AccountRecord, expected: string | null = null): StoreChange => ({ type: 'account', key, record: next, expected });
const dataFile = () => join(dir, DATA_FILE_NAME);
const lines = async () => (await readFile(dataFile(), 'utf8')).split('\n');
const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

/** A store on `dir`, loaded, closed after the spec. */
async function open(at = dir, minCompactionBytes?: number): Promise<Store> {
  const store = fileStore(at, minCompactionBytes);
  opened.push(store);
  await store.load();
  return store;
}

/** What a store freshly opened on `dir` loads, the earlier ones closed first (as at a restart). */
async function reopened() {
  for (const store of opened.splice(0)) await store.close();
  const store = await open();
  return store.load();
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatd-store-'));
});

afterEach(async () => {
  for (const store of opened.splice(0)) await store.close();
  await rm(dir, { recursive: true, force: true });
});

describe('fileStore', () => {
  it('loads nothing at first, makes its folder and a log that says its version, and keeps each change across a restart', async () => {
    dir = join(dir, 'data');
    const store = await open();
    expect(await store.load()).toEqual(EMPTY_DATA);
    expect(JSON.parse((await lines())[0] ?? '')).toEqual({ format: 'chatd data log', version: DATA_FORMAT_VERSION });
    expect(await Promise.all([store.change(set('ann', record('Ann'))), store.change(set('bob', record('bob')))])).toEqual([true, true]);
    expect(await store.change(set('ann', record('Ann'), 'd3Jvbmc='))).toBe(false); // not the kept one's hash
    expect((await reopened()).accounts).toEqual(accountTable([['ann', record('Ann')], ['bob', record('bob')]]));
    expect((await readdir(dir)).sort()).toEqual([DATA_FILE_NAME, LOCK_FILE_NAME]); // no temporary file left
  });

  it('keeps the SSH keys tied to an account across a restart, and drops a stored one that is no fingerprint', async () => {
    const store = await open();
    const keys = ['SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', 'SHA256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'];
    await store.change(set('ann', { ...record('Ann'), keys }));
    expect((await reopened()).accounts).toEqual(accountTable([['ann', { ...record('Ann'), keys }]]));
    await (await open()).change(set('bob', { ...record('bob'), keys: ['SHA256:ok', 'not a key\u001b[2J'] }));
    expect((await reopened()).accounts['bob']).toEqual({ ...record('bob'), keys: ['SHA256:ok'] });
  });

  it('appends a line per change rather than rewriting what is kept', async () => {
    const store = await open();
    await store.change(set('ann', record('Ann')));
    const before = await readFile(dataFile(), 'utf8');
    await store.change({ type: 'account', key: 'ann', record: null, expected: 'aGFzaA==' });
    const after = await readFile(dataFile(), 'utf8');
    expect(after.startsWith(before)).toBe(true);
    expect(JSON.parse(after.slice(before.length))).toEqual({ type: 'account', key: 'ann', record: null });
    expect(Object.keys((await reopened()).accounts)).toEqual([]);
  });

  it('notes logins on the account, and they outlast a restart', async () => {
    const store = await open();
    await store.change(set('ann', { ...record('Ann'), registeredAt: 1 }));
    await store.loggedIn('ann', 5);
    await store.loggedIn('nobody', 6); // no account: nothing noted
    expect(await store.account('ann')).toEqual({ ...record('Ann'), registeredAt: 1, lastLoginAt: 5 });
    expect((await reopened()).accounts).toEqual(accountTable([['ann', { ...record('Ann'), registeredAt: 1, lastLoginAt: 5 }]]));
  });

  it('leaves out a last line torn by a crash, and the next change starts a line of its own', async () => {
    const store = await open();
    await store.change(set('ann', record('Ann')));
    await store.close();
    await appendFile(dataFile(), '{"type":"account","key":"bob","rec');
    const again = await open();
    expect((await again.load()).accounts).toEqual(accountTable([['ann', record('Ann')]]));
    await again.change(set('cat', record('cat')));
    expect((await reopened()).accounts).toEqual(accountTable([['ann', record('Ann')], ['cat', record('cat')]]));
    expect((await lines()).every((line) => line === '' || JSON.parse(line) !== undefined)).toBe(true);
  });

  it('refuses a log with a bad line before the last with CHAT_STORE_CORRUPT, naming the file and the line', async () => {
    await writeFile(dataFile(), `{"format":"chatd data log","version":1}\n{"type":"account","key":"ann"}\n{"type":"login","key":"ann","at":1}\n`);
    await expect(fileStore(dir).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_CORRUPT', message: `${dataFile()} is corrupt: line 2: an account line is not a key and a record` }));
    await writeFile(dataFile(), '{"accounts": {}}\n');
    await expect(fileStore(dir).load()).rejects.toThrow(`${dataFile()} is corrupt: its first line does not say "chatd data log"`);
  });

  it('loads a hand-edited log without what no user could have typed, and keeps the account it skips in the file, never loaded', async () => {
    const evil = JSON.stringify({ type: 'account', key: 'evil', record: record('evil\u001b[2J\u001b]0;owned\u0007\nroot\t2020') });
    const bans = [{ name: 'dan', address: '10.0.0.2', until: null, by: 'ann', reason: 'x'.repeat(100_000) }, { name: 'eve', address: '10.0.0.3', until: null, by: 'ann', reason: 'spam' }];
    const moderation = JSON.stringify({ type: 'moderation', ops: [], opAccounts: {}, bans, motd: `\u001b[2J\u202e${'x'.repeat(50_000)}` });
    const text = ['{"format":"chatd data log","version":1}', moderation, JSON.stringify({ type: 'account', key: 'ann', record: record('ann') }), evil, ''].join('\n');
    await writeFile(dataFile(), text);
    const store = await open(dir, 1); // compacts at the first change
    expect(await store.load()).toEqual({ ...EMPTY_DATA, accounts: accountTable([['ann', record('ann')]]), bans: [bans[1]] });
    expect(await store.account('evil')).toBeUndefined();
    for (const name of ['bob', 'cat', 'dan']) await store.change(set(name, record(name))); // compacted
    await store.close();
    expect(await lines()).toContain(evil);
    expect(Object.keys((await reopened()).accounts)).toEqual(['ann', 'bob', 'cat', 'dan']);
  });

  it('refuses a log of a later format version with CHAT_STORE_TOO_NEW and leaves it as it was', async () => {
    const later = `{"format":"chatd data log","version":${DATA_FORMAT_VERSION + 1}}\n{"type":"account","key":"ann","record":{"name":"ann"}}\n`;
    await writeFile(dataFile(), later);
    await expect(fileStore(dir).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_TOO_NEW', message: expect.stringContaining(`is of data format ${DATA_FORMAT_VERSION + 1}`) }));
    expect(await readFile(dataFile(), 'utf8')).toBe(later);
  });

  it('keeps the fields and kinds of line it does not know through a compaction', async () => {
    const later = '{"name":"Ann","salt":"c2FsdA==","hash":"aGFzaA==","cost":16384,"knownAddresses":["10.0.0.1"],"__proto__":"kept as data"}';
    const text = [
      '{"format":"chatd data log","version":1}',
      `{"type":"account","key":"ann","record":${later}}`,
      '{"type":"a-later-kind","anything":[1,2]}',
      '',
    ].join('\n');
    await writeFile(dataFile(), text);
    const store = await open(dir, 1); // compacts at the first change
    for (const name of ['bob', 'cat', 'dan']) await store.change(set(name, record(name))); // the log doubles: compacted
    await store.close(); // once the compaction that follows the changes is done
    const written = await lines();
    expect(JSON.parse(written[1] ?? '')).toEqual({ type: 'moderation', ops: [], opAccounts: {}, bans: [], motd: '' }); // written by a compaction
    expect(written).toContain('{"type":"a-later-kind","anything":[1,2]}');
    const ann = (await reopened()).accounts['ann'];
    expect(JSON.parse(JSON.stringify(ann))).toEqual(JSON.parse(later));
    expect(Object.keys(ann ?? {})).toContain('__proto__'); // a field, not the record's prototype
    expect(Object.getPrototypeOf(ann)).toBe(Object.prototype);
  });

  it('compacts a grown log into what is kept, without a temporary file left', async () => {
    const store = await open(dir, 2_000);
    for (let round = 0; round < 20; round += 1) {
      await store.change(set('ann', record('Ann', `aGFzaA${round}`), round === 0 ? null : `aGFzaA${round - 1}`));
    }
    await store.change(set('bob', record('bob')));
    const { size } = await stat(dataFile());
    expect(size).toBeLessThan(2 * 2_000);
    expect((await lines()).length).toBeLessThan(20);
    expect((await reopened()).accounts).toEqual(accountTable([['ann', record('Ann', 'aGFzaA19')], ['bob', record('bob')]]));
    expect((await readdir(dir)).sort()).toEqual([DATA_FILE_NAME, LOCK_FILE_NAME]);
  });

  it('fails a change with CHAT_STORE_UNWRITABLE when the log was removed by hand, rather than start a log without its first line', async () => {
    const store = await open();
    await rm(dataFile());
    await expect(store.change(set('ann', record('Ann')))).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }));
    expect(await store.account('ann')).toBeUndefined();
    await expect(stat(dataFile())).rejects.toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('loads the log whole when a crash left a half-written compaction beside it', async () => {
    const store = await open();
    await store.change(set('ann', record('Ann')));
    await store.close();
    await writeFile(`${dataFile()}.tmp`, '{"format":"chatd data log","version":1}\n{"type":"acc');
    expect((await reopened()).accounts).toEqual(accountTable([['ann', record('Ann')]]));
  });

  it('keeps the data file and its temporary file 0600, whatever mode they had before', async () => {
    await writeFile(`${dataFile()}.tmp`, 'left over', { mode: 0o644 });
    await chmod(`${dataFile()}.tmp`, 0o644);
    const store = await open(dir, 1);
    await store.change(set('ann', record('Ann'))); // compacts, through the temporary file
    await store.close(); // once the compaction is done
    expect(await modeOf(dataFile())).toBe(0o600);
    await chmod(dataFile(), 0o644);
    await open();
    expect(await modeOf(dataFile())).toBe(0o600);
  });

  it('moves the data of chatd.json into the log at the first start, and refuses a corrupt one as before', async () => {
    const old = { accounts: { ann: record('Ann') }, ops: ['bob'], bans: [{ name: 'dan', address: '10.0.0.2', until: null, by: 'ann', reason: '' }], motd: 'hi' };
    await writeFile(join(dir, OLD_DATA_FILE_NAME), JSON.stringify(old));
    const loaded = await reopened();
    expect(loaded).toEqual({ ...old, accounts: accountTable([['ann', record('Ann')]]), displaced: [], opAccounts: {} });
    await rm(join(dir, OLD_DATA_FILE_NAME)); // from now on the log holds it all
    expect(await reopened()).toEqual(loaded);
    await rm(dataFile());
    await writeFile(join(dir, OLD_DATA_FILE_NAME), '{"accounts": {"ann": {"name": 1}}}');
    await expect(fileStore(dir).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_CORRUPT', message: expect.stringContaining('account "ann" is not a name, salt, hash and cost') }));
    await writeFile(join(dir, OLD_DATA_FILE_NAME), 'not\tjson\r\n\u2028\u009b'); // what it quotes, in one line
    await expect(fileStore(dir).load()).rejects.toThrow(/is corrupt: [^\n]*"not\\tjson\\r\\n\\u2028\\x9b" is not valid JSON$/);
  });

  it('refuses a folder that cannot be written with CHAT_STORE_UNWRITABLE', async () => {
    await writeFile(join(dir, 'a-file'), '');
    await expect(fileStore(join(dir, 'a-file', 'data')).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }));
  });

  it('refuses a folder another running process holds with CHAT_STORE_LOCKED, and takes over a lock whose process has ended', async () => {
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, LOCK_FILE_NAME), `${process.ppid}\n`); // jest's own process: running, and not this one
    await expect(fileStore(dir).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_LOCKED', message: expect.stringContaining(`in use by process ${process.ppid}`) }));
    await writeFile(join(dir, LOCK_FILE_NAME), '999999999\n'); // no such process
    await open();
    expect(await readFile(join(dir, LOCK_FILE_NAME), 'utf8')).toBe(`${process.pid}\n`);
  });

  it('keeps bans, /op names and the motd as the chat\'s state does', async () => {
    const store = await open();
    const ban = (name: string, address: string) => ({ type: 'banned', user: '1', nick: 'ann', ban: { name, address, until: null, by: 'ann', reason: '' }, at: 1 }) as const;
    const opped = { type: 'opped', user: '1', nick: 'ann', name: 'bob', at: 1 } as const;
    for (const change of [opped, ban('dan', '10.0.0.2'), ban('eve', '10.0.0.2'), ban('fay', '10.0.0.3')]) await store.change(change);
    await store.change({ type: 'unbanned', user: '1', nick: 'ann', target: '10.0.0.2', at: 2 });
    await store.change({ type: 'motd', user: '1', nick: 'ann', text: 'hi', at: 3 });
    await store.change({ type: 'deopped', user: '1', nick: 'ann', name: 'bob', at: 4 });
    expect(await reopened()).toEqual({ ...EMPTY_DATA, bans: [ban('fay', '10.0.0.3').ban], motd: 'hi' });
  });
});
