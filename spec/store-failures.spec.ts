import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as text from '../lib/chat/texts';
import type { ServerEvent } from '../lib/server';
import * as files from '../lib/store/file';
import { type Client, type Harness, startHarness } from './support/client';

const SECRET = 'correct-horse';
const rateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };

let dataDir: string;
let harness: Harness;
let events: ServerEvent[];

const start = async (): Promise<void> => {
  harness = await startHarness({ rateLimits, dataDir, ops: ['ann'], onEvent: (event) => events.push(event) });
};

beforeEach(async () => {
  events = [];
  dataDir = await mkdtemp(join(tmpdir(), 'chatd-failing-store-'));
});

afterEach(async () => {
  jest.restoreAllMocks();
  await harness.stop();
  await rm(dataDir, { recursive: true, force: true });
});

async function register(nick: string): Promise<void> {
  const client = await harness.join(nick);
  client.say(`/register ${SECRET}`);
  await client.until(text.accountOutcome('register', 'done', nick));
  client.say('/quit');
  await client.rest();
}

async function withPassword(nick: string): Promise<Client> {
  const client = await harness.visit();
  client.say(nick);
  await client.until(text.PASSWORD_PROMPT);
  client.say(SECRET);
  await client.until(text.joined(nick));
  return client;
}

/** Whether bob, a bystander, still chats: the server serves on. */
async function stillServes(bob: Client): Promise<void> {
  bob.say('still here?');
  await bob.until(text.said('bob', 'still here?'));
}

describe('a store that fails', () => {
  it.each([
    ['synchronously', (error: Error) => { throw error; }],
    ['as a rejection', (error: Error) => Promise.reject(error)],
  ])('costs only the answer its reads and writes were for when it throws %s', async (_how, fail) => {
    const failing = { now: false };
    const real = files.fileStore;
    jest.spyOn(files, 'fileStore').mockImplementation((dir) => {
      const store = real(dir);
      return {
        ...store,
        account: (key) => (failing.now ? fail(new Error('the disk is gone')) : store.account(key)),
        change: (change) => (failing.now ? fail(new Error('the disk is gone')) : store.change(change)),
      };
    });
    await start();
    await register('ann');
    await register('dan');
    const ann = await withPassword('ann');
    await ann.until(text.YOU_ARE_AN_OPERATOR);
    const bob = await harness.join('bob');
    failing.now = true;

    await withPassword('dan'); // the check falls back on the account the server knows
    const cat = await harness.join('cat');
    cat.say(`/register ${SECRET}`);
    await cat.until(text.accountOutcome('register', 'failed', 'cat'));
    ann.say('/motd hello');
    await ann.until(text.NOT_SAVED);
    await stillServes(bob);
    expect(events).toContainEqual({ kind: 'account', change: { kind: 'save-failed', error: expect.objectContaining({ message: 'the disk is gone' }) } });
  });

  it('costs a password check that throws its user that one try, said so, and logged', async () => {
    const broken = { name: 'eve', salt: 'c2FsdA==', hash: 'aGFzaA==', cost: 3 }; // scrypt throws: 3 is no power of two
    await writeFile(join(dataDir, files.OLD_DATA_FILE_NAME), JSON.stringify({ accounts: { eve: broken } })); // moved into the log at start
    await start();
    const bob = await harness.join('bob');
    const eve = await harness.visit();
    eve.say('eve');
    await eve.until(text.PASSWORD_PROMPT);
    eve.say(SECRET);
    expect(await eve.until(text.PROMPT)).toBe(`${text.CHECK_FAILED}${text.PROMPT}`);
    eve.say('eve2');
    await eve.until(text.joined('eve2'));
    await stillServes(bob);
    expect(events).toContainEqual({ kind: 'account', change: { kind: 'check-failed', error: expect.objectContaining({ message: expect.stringContaining('Invalid scrypt params') }) } });
  });
});
