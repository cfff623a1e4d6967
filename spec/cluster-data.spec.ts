import { connect } from 'node:net';
import Redis from 'ioredis';
import { PASSWORD_UNCHECKED, WRONG_PASSWORD } from '../lib/chat/texts';
import type { ChatServerOptions } from '../lib/server';
import { redisStoreKeys } from '../lib/store/redis-keys';
import { killAll, start } from './support/chatd';
import { type Client, type Harness, readingClient, startHarness } from './support/client';
import { describeWithRedis, type RedisServer, startRedis, uniquePrefix } from './support/redis';

const UNPACED = { linesPerSecond: 1000, burstLines: 1000, maxQueuedLines: 1000 };
const SECRET = 'correct-horse';
/** Where a spec's second machine connects from: Linux answers for all of 127.0.0.0/8. */
const OTHER_ADDRESS = '127.0.0.2';

describeWithRedis('a cluster\'s data in Redis', () => {
  let redis: RedisServer;
  let nodes: Harness[] = [];
  const others: Client[] = [];
  let readers = 0;
  const node = async (prefix: string, overrides: Partial<ChatServerOptions> = {}) => {
    const harness = await startHarness({ redis: redis.url, redisPrefix: prefix, rateLimits: UNPACED, ops: ['ann'], maxPasswordWaitMs: 10, ...overrides });
    nodes.push(harness);
    return harness;
  };

  beforeEach(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    for (const { socket } of others.splice(0)) socket.destroy();
    await Promise.all(nodes.splice(0).map((harness) => harness.stop()));
    await killAll();
    await redis.stop();
  });

  /** Logs in to `harness` as `nick` and registers it with SECRET; stays logged in. */
  const register = async (harness: Harness, nick: string): Promise<Client> => {
    const client = await harness.join(nick);
    client.say(`/register ${SECRET}`);
    await client.until('is registered to you; logging in with it will ask for your password\n');
    return client;
  };
  /** Logs in to `harness` as the registered `nick` with its password; reads through `last`. */
  const withPassword = async (harness: Harness, nick: string, last = `*** ${nick} just joined the chatroom\n`): Promise<Client> => {
    const client = await harness.visit();
    client.say(nick);
    await client.until('Password: ');
    client.say(SECRET);
    await client.until(last);
    return client;
  };
  /**
   * Resolves once `harness` (a node started later, say) has applied every event so far, the
   * departures among them: a new user of it reads a line `speaker` says now.
   */
  const caughtUp = async (harness: Harness, speaker: Client, speakerNick: string): Promise<void> => {
    const reader = await harness.join(`reader${++readers}`);
    speaker.say('caught up?');
    await reader.until(`[${speakerNick}] caught up?\n`);
  };
  /** Connects to `harness` from OTHER_ADDRESS and reads nothing yet. */
  const fromOtherAddress = async (harness: Harness): Promise<Client> => {
    const client = await readingClient(connect({ port: harness.port, host: '127.0.0.1', localAddress: OTHER_ADDRESS }), 'connect');
    others.push(client);
    return client;
  };

  it('asks on every node for the password of a name registered on one, and keeps two registered at once on two', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix), await node(prefix)];
    const watcher = await a.join('eve'); // sees each departure, once every node has it
    const ann = await register(a, 'ann');
    ann.say('/quit');
    await watcher.until('*** ann has disconnected\n');
    await caughtUp(b, watcher, 'eve');
    await withPassword(b, 'ann');
    const [cat, dan] = [await a.join('cat'), await b.join('dan')];
    cat.say(`/register ${SECRET}`);
    dan.say(`/register ${SECRET}`);
    await Promise.all([cat.until('cat is registered to you'), dan.until('dan is registered to you')]);
    cat.say('/quit');
    await watcher.until('*** cat has disconnected\n');
    dan.say('/quit');
    await watcher.until('*** dan has disconnected\n');
    await caughtUp(b, watcher, 'eve');
    const [onA, onB] = [await a.visit(), await b.visit()];
    onA.say('dan');
    onB.say('cat');
    await Promise.all([onA.until('Password: '), onB.until('Password: ')]);
    const later = await node(prefix);
    await caughtUp(later, watcher, 'eve');
    await withPassword(later, 'cat');
    await withPassword(later, 'dan');
  });

  it('spaces guesses at one name from many addresses over every node as if from one, and lets the owner\'s known address in at once', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix, { maxPasswordWaitMs: 2000 }), await node(prefix, { maxPasswordWaitMs: 2000 })];
    const watcher = await a.join('eve'); // sees each departure, once every node has it
    (await register(a, 'ann')).say('/quit'); // from 127.0.0.1, which ann's account now knows
    await watcher.until('*** ann has disconnected\n');
    await caughtUp(b, watcher, 'eve'); // b knows ann is registered: its guessers are asked for her password
    const guessers = await Promise.all([1, 2, 3, 4, 5, 6].map(async (host) => {
      const client = await readingClient(connect({ port: (host % 2 === 0 ? a : b).port, host: '127.0.0.1', localAddress: `127.0.3.${host}` }), 'connect');
      others.push(client);
      await client.until('username: ');
      client.say('ann');
      await client.until('Password: ');
      return client;
    }));
    for (const guesser of guessers) guesser.say('a-wrong-guess');
    // The fourth is spaced a second out; the fifth and sixth, past two, are not checked. The first five answers:
    const answers: string[] = [];
    await new Promise<void>((resolve) => {
      for (const guesser of guessers) guesser.until('\n').then((line) => answers.push(line) === 5 && resolve(), () => {});
    });
    expect(answers.sort()).toEqual([...Array<string>(2).fill(PASSWORD_UNCHECKED), ...Array<string>(3).fill(WRONG_PASSWORD)].sort());
    await withPassword(b, 'ann'); // meanwhile, from the owner's address, on the other node
  });

  it('refuses a name and a login from an address banned on one node at every node, one started later too, and shows the motd set on one everywhere', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix), await node(prefix)];
    const watcher = await a.join('eve');
    (await register(a, 'ann')).say('/quit');
    await watcher.until('*** ann has disconnected\n');
    const op = await withPassword(a, 'ann', '*** you are an operator\n');
    const bob = await fromOtherAddress(b);
    await bob.until('username: ');
    bob.say('bob');
    await bob.until('*** bob just joined the chatroom\n');
    await op.until('*** bob just joined the chatroom\n'); // on ann's node too
    op.say('/ban bob spam');
    expect(await bob.rest()).toBe('*** you are banned\n');
    await op.until('*** bob was banned by ann: spam\n');
    op.say('/motd one chat, one motd');
    await op.until('*** message of the day set\n');
    const refusedAtLogin = async (harness: Harness) => {
      const again = await fromOtherAddress(harness);
      await again.until('username: ');
      again.say('someone-else');
      expect(await again.rest()).toBe('*** you are banned\n');
    };
    await refusedAtLogin(b);
    const byName = await b.visit();
    byName.say('bob');
    expect(await byName.rest()).toBe('*** you are banned\n');
    const later = await node(prefix);
    await refusedAtLogin(later);
    const cat = await later.visit();
    cat.say('cat');
    expect(await cat.until('*** cat just joined the chatroom\n')).toContain('Welcome, cat\n*** MOTD: one chat, one motd\n');
  });

  it('keeps an /op made on one node for a node started later', async () => {
    const prefix = uniquePrefix();
    const a = await node(prefix);
    const watcher = await a.join('eve');
    for (const name of ['ann', 'bob']) {
      (await register(a, name)).say('/quit');
      await watcher.until(`*** ${name} has disconnected\n`);
    }
    const op = await withPassword(a, 'ann', '*** you are an operator\n');
    const bob = await withPassword(a, 'bob');
    bob.say('here'); // published after bob's password was taken, so /op finds him identified
    await op.until('[bob] here\n');
    op.say('/op bob');
    await bob.until('*** ann made you an operator\n');
    bob.say('/quit');
    await watcher.until('*** bob has disconnected\n');
    const later = await node(prefix);
    await caughtUp(later, watcher, 'eve');
    await withPassword(later, 'bob', '*** you are an operator\n');
  });

  it('stops a node at start, saying why, when the data in Redis is not chatd\'s', async () => {
    const prefix = uniquePrefix();
    const raw = new Redis(redis.url);
    await raw.hset(redisStoreKeys(prefix).accounts, 'ann', 'not json');
    raw.disconnect();
    const { code, stderr } = await start(['--port', '0', '--redis', redis.url, '--redis-prefix', prefix]).exited;
    expect(code).toBe(1);
    expect(stderr).toBe(`chatd: Redis ${prefix}accounts is corrupt: "ann" is not JSON\n`);
  });
});
