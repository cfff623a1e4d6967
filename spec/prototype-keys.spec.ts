import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as text from '../lib/chat/texts';
import type { ChatServerOptions } from '../lib/server';
import { type Client, type Harness, startHarness } from './support/client';
import { describeWithRedis, uniquePrefix, useCluster } from './support/redis';

/**
 * Every name Object.prototype has (`constructor`, `__proto__`, `toString`, `hasOwnProperty`...):
 * each is a valid username and, lower-cased, a valid room, and a table that is a plain object
 * would find it there before anyone registered, banned or ignored it.
 */
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

const SECRET = 'password123';
/** Wrong passwords the specs give from one address without being slowed: the guessing rule has specs of its own. */
const GUESSES = 1000;
const rateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };
/** Every name below is registered from one address: more than the hourly limit lets through. */
const REGISTRATIONS = 1000;

/** A server on some store, that a spec can start again on what it kept. */
interface Restartable {
  readonly harness: () => Harness;
  readonly restart: () => Promise<void>;
}

/** Connects and gives `nick`, reading through the password prompt. */
async function askedForPassword(harness: Harness, nick: string): Promise<Client> {
  const client = await harness.visit();
  client.say(nick);
  await client.until(text.PASSWORD_PROMPT);
  return client;
}

/** Logs in as the registered `nick`, refused once with a wrong password; reads through the join line. */
async function withPassword(harness: Harness, nick: string): Promise<Client> {
  const client = await askedForPassword(harness, nick);
  client.say('not-the-password');
  await client.until(`${text.WRONG_PASSWORD}${text.PASSWORD_PROMPT}`);
  client.say(SECRET);
  await client.until(text.joined(nick));
  return client;
}

/** Has `client`, logged in as `nick` in the main room, quit; resolves once `witness` there saw them go
 * (on a cluster's bus a departure takes effect when it comes back from Redis). */
async function leave(client: Client, nick: string, witness: Client): Promise<void> {
  client.say('/quit');
  await client.rest();
  await witness.until(text.left(nick));
}

/** The specs, run on each store. */
function prototypeNameSpecs(server: () => Restartable): void {
  // Some 60 scrypt hashes, which a loaded machine takes seconds over.
  it('registers each name, then asks for its password, refusing a wrong one, before and after a restart', async () => {
    const { harness, restart } = server();
    const witness = await harness().join('witness');
    for (const name of PROTOTYPE_NAMES) {
      const owner = await harness().join(name); // no password asked: nobody registered it
      owner.say(`/register ${SECRET}`);
      await owner.until(text.accountOutcome('register', 'done', name));
      await leave(owner, name, witness);
      await leave(await withPassword(harness(), name), name, witness);
    }
    await restart();
    const witnessAgain = await harness().join('witness2'); // on a cluster, the node that stopped may not be gone yet
    for (const name of PROTOTYPE_NAMES) await leave(await withPassword(harness(), name), name, witnessAgain);
  }, 60_000);

  it('takes each name as a room, an ignore and a ban that outlasts a restart', async () => {
    const { harness, restart } = server();
    const witness = await harness().join('witness');
    const ann = await harness().join('ann');
    ann.say(`/register ${SECRET}`);
    await ann.until(text.accountOutcome('register', 'done', 'ann'));
    await leave(ann, 'ann', witness);
    const op = await withPassword(harness(), 'ann');
    for (const name of PROTOTYPE_NAMES) {
      const user = await harness().join(name);
      user.say(`/join ${name}`);
      await user.until(text.joined(name, `#${name.toLowerCase()}`));
      user.say('/join main');
      await user.until(text.joined(name));
      op.say(`/ignore ${name}`);
      await op.until(text.ignoring(name));
      await leave(user, name, witness);
      op.say(`/ban ${name}`); // nobody holds it now: a ban of the name alone, not of this address
      await op.until(text.ban(name, '', null, 'ann', ''));
    }
    await leave(op, 'ann', witness);
    await restart();
    for (const name of PROTOTYPE_NAMES) {
      const refused = await harness().visit();
      refused.say(name);
      expect(await refused.rest()).toBe(text.YOU_ARE_BANNED);
    }
    const opAgain = await withPassword(harness(), 'ann');
    for (const name of PROTOTYPE_NAMES) {
      opAgain.say(`/unban ${name}`);
      await opAgain.until(text.unbanned(name));
      await leave(await harness().join(name), name, opAgain);
    }
  });
}

describe('names Object.prototype has, on the file store', () => {
  let dataDir: string;
  let harness: Harness;
  const start = async () => startHarness({ rateLimits, dataDir, ops: ['ann'], freePasswordChecks: GUESSES, maxRegistrationsPerHour: REGISTRATIONS });

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chatd-prototype-'));
    harness = await start();
  });

  afterEach(async () => {
    await harness.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  prototypeNameSpecs(() => ({
    harness: () => harness,
    restart: async () => {
      await harness.stop();
      harness = await start();
    },
  }));
});

describeWithRedis('names Object.prototype has, on the Redis store', () => {
  const cluster = useCluster();
  let harness: Harness;
  let prefix: string;
  const options: Partial<ChatServerOptions> = { ops: ['ann'], freePasswordChecks: GUESSES, maxRegistrationsPerHour: REGISTRATIONS };

  beforeEach(async () => {
    prefix = uniquePrefix();
    harness = await cluster.node(prefix, options);
  });

  prototypeNameSpecs(() => ({
    harness: () => harness,
    restart: async () => {
      await harness.stop();
      harness = await cluster.node(prefix, options);
    },
  }));
});
