import { randomBytes, scryptSync } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import * as text from '../lib/chat/texts';
import type { ChatServerOptions } from '../lib/server';
import { OLD_DATA_FILE_NAME, readDataFolder } from '../lib/store/file';
import { redisStoreKeys } from '../lib/store/redis-keys';
import type { AccountRecord } from '../lib/store/store';
import { type Client, type Harness, startHarness } from './support/client';
import { describeWithRedis, uniquePrefix, useCluster } from './support/redis';

const rateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };
const COST = 1024; // a record says its cost: a cheap one keeps the spec quick

/** An account as chatd keeps it, with a real hash of `password`. */
function account(name: string, password: string, registeredAt?: number): AccountRecord {
  const salt = randomBytes(16);
  const hash = scryptSync(password.normalize('NFC'), salt, 64, { N: COST });
  return { name, salt: salt.toString('base64'), hash: hash.toString('base64'), cost: COST, ...(registeredAt === undefined ? {} : { registeredAt }) };
}

// As a chatd before nameKey saw capitals kept them: under the key of the name case-folded first.
// alice, registered before chatd kept registration times, is the older; aIice, a lookalike it let
// through, came later; bob was banned as B0B, and alice was made an operator.
const alice = account('alice', 'alice-password');
const aIice = account('aIice', 'aiice-password', 1_700_000_000_000);
const OLD_ACCOUNTS = { alice, aiice: aIice };
const b0bBan = { name: 'B0B', address: '', until: null, by: 'alice', reason: '' };

/** Connects and gives `nick` and `password`; reads through the reply. */
async function logIn(harness: Harness, nick: string, password: string, reply: string): Promise<Client> {
  const client = await harness.visit();
  client.say(nick);
  await client.until(text.PASSWORD_PROMPT);
  client.say(password);
  await client.until(reply);
  return client;
}

/** What the older account's owner, the displaced one's, and a lookalike get: the same before and after a restart. */
async function expectMoved(harness: Harness): Promise<void> {
  const lookalike = await harness.visit();
  lookalike.say('a1ice');
  await lookalike.until(text.PASSWORD_PROMPT);
  const displaced = await logIn(harness, 'aIice', 'aiice-password', text.nameDisplaced('aIice') + text.PROMPT);
  const owner = await logIn(harness, 'ALICE', 'alice-password', text.joined('ALICE'));
  await owner.until(text.YOU_ARE_AN_OPERATOR); // the /op moved with the key
  displaced.say('aIice'); // now held, by look, by the one online: only alice's password takes it over
  await displaced.until(text.PASSWORD_PROMPT);
  displaced.say('aiice-password');
  expect(await displaced.until(text.PROMPT)).toBe(text.nameDisplaced('aIice') + text.PROMPT);
  const banned = await harness.visit();
  banned.say('bob');
  expect(await banned.until(text.YOU_ARE_BANNED)).toBe(text.YOU_ARE_BANNED);
  owner.say('/quit');
  await owner.rest();
}

describe('name keys kept by an older chatd, in the data file', () => {
  let dataDir: string;
  let harness: Harness;
  const start = async () => startHarness({ rateLimits, dataDir });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chatd-rekey-'));
    await writeFile(join(dataDir, OLD_DATA_FILE_NAME), JSON.stringify({ accounts: OLD_ACCOUNTS, ops: ['alice'], bans: [b0bBan], motd: '' }));
    harness = await start();
  });

  afterEach(async () => {
    await harness.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('move at start: the older account keeps the name, the other\'s owner is told at each login, after a restart too', async () => {
    const saved = await readDataFolder(dataDir); // the log, as the server wrote it
    expect(saved).toMatchObject({ accounts: { allce: alice }, displaced: [aIice] });
    await expectMoved(harness);
    await harness.stop();
    harness = await start();
    await expectMoved(harness);
  });

  it('tell the displaced owner in one clear line, and take a wrong password as wrong', async () => {
    const client = await harness.visit();
    client.say('aIice');
    await client.until(text.PASSWORD_PROMPT);
    client.say('aiice-password');
    expect(await client.until(text.PROMPT)).toBe(
      '*** aIice was registered to you, but now counts as the same name as one registered before it, which keeps it; pick another name\n' + text.PROMPT,
    );
    client.say('aIice');
    await client.until(text.PASSWORD_PROMPT);
    client.say('a-wrong-one');
    expect(await client.until(text.PASSWORD_PROMPT)).toBe(text.WRONG_PASSWORD + text.PASSWORD_PROMPT);
  });

  it('take aIice, a capital I for the l, as alice: online, and registered', async () => {
    const owner = await logIn(harness, 'alice', 'alice-password', text.joined('alice'));
    const impostor = await harness.visit();
    impostor.say('aIice'); // held, and registered: only its password would take it over
    await impostor.until(text.PASSWORD_PROMPT);
    impostor.say('not-hers-at-all');
    expect(await impostor.until(text.PASSWORD_PROMPT)).toBe(text.WRONG_PASSWORD + text.PASSWORD_PROMPT);
    owner.say('/who');
    expect(await owner.until('in #main')).toMatch(/\*\*\* 1 in #main$/);
    owner.say('/quit');
    await owner.rest();
    const later = await harness.visit();
    later.say('aIice');
    await later.until(text.PASSWORD_PROMPT);
  });
});

describeWithRedis('name keys kept by an older chatd, in Redis', () => {
  const cluster = useCluster();
  let prefix: string;
  let raw: Redis;
  const options: Partial<ChatServerOptions> = {};

  beforeEach(async () => {
    prefix = uniquePrefix();
    raw = new Redis(cluster.redis().url);
    const keys = redisStoreKeys(prefix);
    await raw.hset(keys.accounts, 'alice', JSON.stringify(alice), 'aiice', JSON.stringify(aIice));
    await raw.hset(keys.ops, 'alice', 'alice');
    await raw.hset(keys.bans, 'bOb', JSON.stringify({ ...b0bBan, at: 1 }));
  });

  afterEach(() => {
    raw.disconnect();
  });

  it('move as a node starts: each account, /op name and ban under its new key, the displaced kept aside, after a restart too', async () => {
    const [a, b] = await Promise.all([cluster.node(prefix, options), cluster.node(prefix, options)]); // two nodes move them once
    const keys = redisStoreKeys(prefix);
    expect(await raw.hgetall(keys.accounts)).toEqual({ allce: JSON.stringify(alice) });
    expect(await raw.hgetall(keys.displaced)).toEqual({ aiice: JSON.stringify(aIice) });
    expect(await raw.hgetall(keys.ops)).toEqual({ allce: 'alice' });
    expect(Object.keys(await raw.hgetall(keys.bans))).toEqual(['bob']);
    await expectMoved(a);
    await a.stop();
    await b.stop();
    await expectMoved(await cluster.node(prefix, options));
  });
});
