import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_FILE_NAME, fileStore } from '../../lib/store/file';
import { EMPTY_DATA, type StoreData } from '../../lib/store/store';

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

  it('refuses a corrupt file with CHAT_STORE_CORRUPT, naming it', async () => {
    await writeFile(join(dir, DATA_FILE_NAME), '{"accounts": {"ann": {"name": "ann"');
    await expect(fileStore(dir).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_CORRUPT', message: expect.stringContaining(`${DATA_FILE_NAME} is corrupt`) }));
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

  it('loads the last whole save when a crash left a half-written temporary file', async () => {
    await fileStore(dir).save(ann);
    await writeFile(join(dir, `${DATA_FILE_NAME}.tmp`), '{"accounts": {"bo');
    expect(await fileStore(dir).load()).toEqual(ann);
    expect(JSON.parse(await readFile(join(dir, DATA_FILE_NAME), 'utf8'))).toEqual(ann);
  });
});
