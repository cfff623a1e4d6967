import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_FILE_NAME, fileStore } from '../../lib/store/file';
import { dataKeeper, EMPTY_DATA, type StoreData } from '../../lib/store/store';

let dir: string;
const ann: StoreData = { ...EMPTY_DATA, accounts: { ann: { name: 'Ann', salt: 'c2FsdA==', hash: 'aGFzaA==', cost: 16384 } } };
const bob: StoreData = { ...EMPTY_DATA, accounts: { bob: { name: 'bob', salt: 'c2FsdA==', hash: 'aGFzaA==', cost: 16384 } } };

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatd-store-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('fileStore', () => {
  it('loads nothing before the first save, then what was saved last, and makes its folder', async () => {
    const store = fileStore(join(dir, 'data'));
    expect(await store.load()).toEqual(EMPTY_DATA);
    await Promise.all([store.save(ann), store.save(bob)]);
    expect(await fileStore(join(dir, 'data')).load()).toEqual(bob);
    expect(await readdir(join(dir, 'data'))).toEqual([DATA_FILE_NAME]); // no temporary file left
  });

  it('refuses a corrupt file with CHAT_STORE_CORRUPT, naming it, in one line that escapes what it quotes', async () => {
    await writeFile(join(dir, DATA_FILE_NAME), '{"accounts": {"ann": {"name": "ann"');
    await expect(fileStore(dir).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_CORRUPT', message: expect.stringContaining(`${DATA_FILE_NAME} is corrupt`) }));
    await writeFile(join(dir, DATA_FILE_NAME), 'not\tjson\r\n\u2028\u009b');
    await expect(fileStore(dir).load()).rejects.toThrow(/is corrupt: [^\n]*"not\\tjson\\r\\n\\u2028\\x9b" is not valid JSON$/);
    await writeFile(join(dir, DATA_FILE_NAME), '{"accounts": {"ann": {"name": 1}}}');
    await expect(fileStore(dir).load()).rejects.toThrow('account "ann" is not a name, salt, hash and cost');
  });

  it('refuses a folder that cannot be written with CHAT_STORE_UNWRITABLE', async () => {
    await writeFile(join(dir, 'a-file'), '');
    await expect(fileStore(join(dir, 'a-file', 'data')).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }));
  });

  it('leaves the old file whole when a save fails between its writes', async () => {
    const store = fileStore(dir);
    await store.save(ann);
    await mkdir(join(dir, `${DATA_FILE_NAME}.tmp`)); // the temporary file cannot be written
    await expect(store.save(bob)).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }));
    expect(await fileStore(dir).load()).toEqual(ann);
    await rm(join(dir, `${DATA_FILE_NAME}.tmp`), { recursive: true });
    await store.save(bob); // a failed save does not stop the next
    expect(await fileStore(dir).load()).toEqual(bob);
  });

  it('keeps moderation’s part, reads a file saved before it as having none, and refuses a bad ban', async () => {
    const moderated: StoreData = { ...ann, ops: ['bob'], bans: [{ name: 'dan', address: '10.0.0.2', until: null, by: 'ann', reason: '' }], motd: 'hi' };
    await fileStore(dir).save(moderated);
    expect(await fileStore(dir).load()).toEqual(moderated);
    await writeFile(join(dir, DATA_FILE_NAME), JSON.stringify({ accounts: ann.accounts }));
    expect(await fileStore(dir).load()).toEqual(ann);
    await writeFile(join(dir, DATA_FILE_NAME), JSON.stringify({ accounts: {}, bans: [{ name: 'dan' }] }));
    await expect(fileStore(dir).load()).rejects.toThrow('a ban is not a name, address, until, by and reason');
  });

  it('loads the last whole save when a crash left a half-written temporary file', async () => {
    await fileStore(dir).save(ann);
    await writeFile(join(dir, `${DATA_FILE_NAME}.tmp`), '{"accounts": {"bo');
    expect(await fileStore(dir).load()).toEqual(ann);
    expect(JSON.parse(await readFile(join(dir, DATA_FILE_NAME), 'utf8'))).toEqual(ann);
  });
});

describe('dataKeeper', () => {
  const annRecord = ann.accounts['ann'];
  const opped = { type: 'opped', user: '1', nick: 'ann', name: 'bob', at: 1 } as const;

  it('makes each change to what the one before it saved, even when two are asked for at once', async () => {
    const keeper = dataKeeper(fileStore(dir));
    await keeper.load();
    const changes = [keeper.change(opped), keeper.change({ type: 'account', key: 'ann', record: annRecord ?? null, expected: null })];
    expect(await Promise.all(changes)).toEqual([true, true]);
    expect(await fileStore(dir).load()).toEqual({ ...ann, ops: ['bob'] });
    expect(await keeper.account('ann')).toEqual(annRecord);
  });

  it('changes an account only when the kept one is the one expected', async () => {
    const keeper = dataKeeper(fileStore(dir));
    await keeper.load();
    await keeper.change({ type: 'account', key: 'ann', record: annRecord ?? null, expected: null });
    expect(await keeper.change({ type: 'account', key: 'ann', record: null, expected: null })).toBe(false);
    expect(await keeper.change({ type: 'account', key: 'ann', record: null, expected: 'c29tZXRoaW5nIGVsc2U=' })).toBe(false);
    expect(await keeper.change({ type: 'account', key: 'ann', record: null, expected: annRecord?.hash ?? '' })).toBe(true);
    expect(await fileStore(dir).load()).toEqual(EMPTY_DATA);
  });

  it('keeps bans, /op names and the motd as the chat\'s state does', async () => {
    const keeper = dataKeeper(fileStore(dir));
    await keeper.load();
    const ban = (name: string, address: string) => ({ type: 'banned', user: '1', nick: 'ann', ban: { name, address, until: null, by: 'ann', reason: '' }, at: 1 }) as const;
    for (const change of [opped, ban('dan', '10.0.0.2'), ban('eve', '10.0.0.2'), ban('fay', '10.0.0.3')]) await keeper.change(change);
    await keeper.change({ type: 'unbanned', user: '1', nick: 'ann', target: '10.0.0.2', at: 2 });
    await keeper.change({ type: 'motd', user: '1', nick: 'ann', text: 'hi', at: 3 });
    await keeper.change({ type: 'deopped', user: '1', nick: 'ann', name: 'bob', at: 4 });
    expect(await fileStore(dir).load()).toEqual({ ...EMPTY_DATA, bans: [ban('fay', '10.0.0.3').ban], motd: 'hi' });
  });

  it('keeps the data as it was when a save fails, and saves the next change', async () => {
    await mkdir(join(dir, `${DATA_FILE_NAME}.tmp`));
    const keeper = dataKeeper(fileStore(dir));
    await keeper.load();
    const register = { type: 'account', key: 'ann', record: annRecord ?? null, expected: null } as const;
    await expect(keeper.change(register)).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }));
    expect(await keeper.account('ann')).toBeUndefined();
    await rm(join(dir, `${DATA_FILE_NAME}.tmp`), { recursive: true });
    await keeper.change({ type: 'motd', user: '1', nick: 'ann', text: 'hi', at: 1 });
    await keeper.close();
    expect(await fileStore(dir).load()).toEqual({ ...EMPTY_DATA, motd: 'hi' });
  });
});
