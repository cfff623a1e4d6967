import { once } from 'node:events';
import { connect } from 'node:net';
import Redis from 'ioredis';
import { BUS_DOWN, BUS_UP, NOT_SAVED_APART, YOU_ARE_AN_OPERATOR, youWereKicked } from '../lib/chat/texts';
import { type Client, type Harness, readingClient } from './support/client';
import { describeWithRedis, uniquePrefix, useCluster } from './support/redis';

const SECRET = 'correct-horse';
/** Where a spec's second machine connects from: Linux answers for all of 127.0.0.0/8. */
const OTHER_ADDRESS = '127.0.0.2';
/** Operators by configuration, once they give their password. */
const OPS = { ops: ['ann', 'bea'] };

/**
 * Resolves once the wall clock has passed `time`: a login after this is later than one seen
 * before it by the millisecond clock that orders logins (a tie goes by node id, which is random).
 */
async function clockPassed(time: number): Promise<void> {
  while (Date.now() <= time) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** A Redis Stream id's order: milliseconds, then sequence. */
const streamOrder = (id: string): [number, number] => {
  const [ms = 0, seq = 0] = id.split('-').map(Number);
  return [ms, seq];
};
const atOrAfter = (id: string, other: string): boolean => {
  const [[ms, seq], [otherMs, otherSeq]] = [streamOrder(id), streamOrder(other)];
  return ms > otherMs || (ms === otherMs && seq >= otherSeq);
};

describeWithRedis('a cluster of chatd nodes through a Redis outage', () => {
  const cluster = useCluster();
  const { node } = cluster;
  const others: Client[] = [];
  afterEach(() => {
    for (const { socket } of others.splice(0)) socket.destroy();
  });

  /** Connects to `harness` from OTHER_ADDRESS and reads nothing yet. */
  const fromOtherAddress = async (harness: Harness): Promise<Client> => {
    const client = await readingClient(connect({ port: harness.port, host: '127.0.0.1', localAddress: OTHER_ADDRESS }), 'connect');
    others.push(client);
    return client;
  };
  /** Logs in to `harness` as `nick`, registers it with SECRET and reads until `last`. */
  const register = async (harness: Harness, nick: string, last = 'logging in with it will ask for your password\n'): Promise<Client> => {
    const client = await harness.join(nick);
    client.say(`/register ${SECRET}`);
    await client.until(last);
    return client;
  };
  /**
   * Resolves once the snapshot in Redis is at or after the stream's last event: a node that
   * restores from it then reads none of the events before, and knows their changes only from the
   * store. Redis tells of each write of the snapshot (keyspace notifications), and each is looked at.
   */
  const snapshotPassesStream = async (prefix: string): Promise<void> => {
    const [raw, listener] = [new Redis(cluster.redis().url), new Redis(cluster.redis().url)];
    try {
      await raw.config('SET', 'notify-keyspace-events', 'Kh');
      const written = once(listener, 'message');
      await listener.subscribe(`__keyspace@0__:${prefix}snapshot`);
      const [[last = '0-0'] = []] = await raw.xrevrange(`${prefix}events`, '+', '-', 'COUNT', 1);
      const passed = async () => atOrAfter((await raw.hget(`${prefix}snapshot`, 'id')) ?? '0-0', last);
      for (let next = written; !(await passed()); next = once(listener, 'message')) await next;
    } finally {
      raw.disconnect();
      listener.disconnect();
    }
  };

  it('tells each node\'s users when Redis is lost and back, keeps local chat, and renames the later of two who took a name meanwhile', async () => {
    const prefix = uniquePrefix();
    const { a, b, ann, bob } = await cluster.annAndBob(prefix);
    await cluster.redis().kill();
    await ann.until(BUS_DOWN);
    await bob.until(BUS_DOWN);
    const zedA = await a.join('zed');
    await ann.until('*** zed just joined the chatroom\n');
    zedA.say('alone on a');
    await ann.until('[zed] alone on a\n');
    await clockPassed(Date.now());
    const zedB = await b.join('zed'); // later by the clock: whichever node's roster comes first, this one is renamed
    await cluster.redis().restart();
    await ann.until(BUS_UP);
    await bob.until(BUS_UP);
    await zedB.until('*** username zed was taken on another server meanwhile; you are now zed_2\n');
    ann.say('together again');
    await bob.until('[ann] together again\n');
    zedA.say('still zed');
    await bob.until('[zed] still zed\n');
    expect(await zedA.until('[zed] still zed\n')).not.toContain('you are now');
    bob.say('/who');
    await bob.until('*** 4 in #main: ');
  }, 30_000);

  it('bans the address of a user who came back from an outage with their server\'s roster, puts them out, and refuses a login from the address at every node', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix, OPS), await node(prefix, OPS)];
    const eve = await a.join('eve');
    const cat = await b.join('cat');
    await eve.until('*** cat just joined the chatroom\n');
    await cluster.redis().kill();
    await eve.until(BUS_DOWN);
    await cat.until(BUS_DOWN);
    const bob = await fromOtherAddress(b); // logs in while b is alone: only b's roster brings him back
    await bob.until('username: ');
    bob.say('bob');
    await bob.until('*** bob just joined the chatroom\n');
    await cluster.redis().restart();
    await eve.until('*** bob just joined the chatroom\n');
    const ann = await register(a, 'ann', YOU_ARE_AN_OPERATOR); // Redis came back empty: no account outlived it
    ann.say('/ban bob spam');
    await ann.until(`*** bob (${OTHER_ADDRESS}) is banned for good by ann: spam\n`);
    expect(await bob.rest()).toMatch(/\*\*\* you are banned\n$/);
    for (const harness of [a, b]) {
      const again = await fromOtherAddress(harness);
      await again.until('username: ');
      again.say('someone-else');
      expect(await again.rest()).toBe('*** you are banned\n');
    }
  }, 30_000);

  it('keeps an operator who gave their password during the outage an operator once Redis is back', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix, OPS), await node(prefix, OPS)];
    const early = await register(b, 'bea', YOU_ARE_AN_OPERATOR);
    early.say('/quit');
    await early.rest();
    const dan = await a.join('dan');
    await cluster.redis().kill();
    await dan.until(BUS_DOWN);
    const bea = await b.visit();
    bea.say('bea');
    await bea.until('Password: ');
    bea.say(SECRET); // checked against the account this node knows: Redis is away
    await bea.until(YOU_ARE_AN_OPERATOR);
    await cluster.redis().restart();
    await bea.until(BUS_UP);
    await dan.until('*** bea just joined the chatroom\n'); // back on node a too
    bea.say('/kick dan');
    await dan.until(youWereKicked('bea', ''));
  }, 30_000);

  it('refuses an operator\'s change with one line on a node cut off from Redis, and gives it the bans, operators and motd changed elsewhere meanwhile once it is back', async () => {
    const prefix = uniquePrefix();
    const link = await cluster.proxy();
    const [a, b] = [await node(prefix, OPS), await node(prefix, { ...OPS, redis: link.url })];
    const ann = await register(a, 'ann', YOU_ARE_AN_OPERATOR);
    const cat = await register(a, 'cat');
    const bea = await register(b, 'bea', YOU_ARE_AN_OPERATOR);
    const dan = await b.join('dan');
    await bea.until('*** dan just joined the chatroom\n');
    link.cut(); // b alone loses Redis, as in a network partition; a keeps it
    await bea.until(BUS_DOWN);
    bea.say('/ban dan');
    await bea.until(NOT_SAVED_APART);
    bea.say('/motd set on b alone');
    await bea.until(NOT_SAVED_APART);
    dan.say('still here');
    await bea.until('[dan] still here\n');
    ann.say('/op cat');
    await cat.until('*** ann made you an operator\n');
    cat.say('/quit');
    await ann.until('*** cat has disconnected\n');
    ann.say('/motd set on a meanwhile');
    await ann.until('*** message of the day set\n');
    ann.say('/ban zed');
    await ann.until('*** zed is banned for good by ann\n');
    await snapshotPassesStream(prefix); // so b cannot learn them from the stream
    link.mend();
    await bea.until(BUS_UP);
    bea.say('/motd');
    await bea.until('*** MOTD: set on a meanwhile\n');
    const zed = await b.visit();
    zed.say('zed');
    expect(await zed.rest()).toBe('*** you are banned\n');
    const catOnB = await b.visit();
    catOnB.say('cat');
    await catOnB.until('Password: ');
    catOnB.say(SECRET);
    await catOnB.until(YOU_ARE_AN_OPERATOR);
  }, 30_000);

  /** Node a cut off from Redis (dan on it), node b on it (bea on it), each told. */
  const partitioned = async (options = {}) => {
    const link = await cluster.proxy();
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix, { ...options, redis: link.url }), await node(prefix, options)];
    const dan = await a.join('dan');
    const bea = await b.join('bea');
    await dan.until('*** bea just joined the chatroom\n');
    link.cut();
    await dan.until(BUS_DOWN);
    return { link, a, b, dan, bea };
  };

  it('renames, once the partition heals, a stranger who took on a cut-off node a name registered meanwhile, on every node', async () => {
    const { link, a, b, dan, bea } = await partitioned();
    const erin = await register(b, 'erin');
    const stranger = await a.join('erin'); // a cannot know erin is registered
    link.mend();
    await dan.until(BUS_UP);
    await stranger.until('*** erin is registered and its owner logged in with its password; you are now erin_2\n');
    stranger.say('who am i');
    expect(await bea.until('[erin_2] who am i\n')).not.toContain('[erin] who am i');
    erin.say('the real one');
    await dan.until('[erin] the real one\n');
  }, 30_000);

  it('renames such a stranger once the healed node knows the name is registered, with its owner gone', async () => {
    const { link, a, b, dan, bea } = await partitioned();
    const erin = await register(b, 'erin');
    erin.say('/quit');
    await bea.until('*** erin has disconnected\n');
    const stranger = await a.join('erin');
    link.mend();
    await dan.until(BUS_UP);
    await stranger.until('*** erin is registered and its owner logged in with its password; you are now erin_2\n');
    await bea.until('*** erin is now known as erin_2\n');
  }, 30_000);

  it('leaves a registered name with its owner when a stranger took it first on the cut-off node', async () => {
    const { link, a, b, dan } = await partitioned();
    const stranger = await a.join('carol');
    await clockPassed(Date.now());
    const carol = await register(b, 'carol'); // later by the clock, but with the password
    link.mend();
    await dan.until(BUS_UP);
    await stranger.until('you are now carol_2\n');
    carol.say('still carol');
    await dan.until('[carol] still carol\n');
    expect(await carol.until('[carol] still carol\n')).not.toContain('you are now');
  }, 30_000);

  it('puts out, once the partition heals, a user who took on the cut-off node a name banned meanwhile', async () => {
    const { link, a, b, dan, bea } = await partitioned(OPS);
    const ann = await register(b, 'ann', YOU_ARE_AN_OPERATOR);
    ann.say('/ban nat');
    await ann.until('*** nat is banned for good by ann\n');
    const nat = await a.join('nat'); // a cannot know of the ban
    link.mend();
    await dan.until(BUS_UP);
    expect(await nat.rest()).toMatch(/\*\*\* you are banned\n$/);
    await bea.until('*** nat has disconnected\n');
  }, 30_000);

  /** Ann on a node on Redis, bob on a node whose way to Redis a spec can freeze. */
  const bobBehindProxy = async () => {
    const link = await cluster.proxy();
    const { ann, bob } = await cluster.annAndBob(uniquePrefix(), { redis: link.url });
    return { link, ann, bob };
  };

  it('takes a Redis that stops answering, closing nothing, as out of reach, and is one chat again once it answers', async () => {
    const { link, ann, bob } = await bobBehindProxy();
    link.freeze(); // b's packets to Redis are dropped, as by a broken network: nothing closes
    await bob.until(BUS_DOWN); // nobody typed: b's heartbeat went unanswered
    bob.say('into the void');
    await bob.until('[bob] into the void\n');
    link.thaw();
    await bob.until(BUS_UP);
    bob.say('out of the void');
    expect(await ann.until('[bob] out of the void\n')).not.toContain('into the void');
  }, 30_000);

  it('shows a line whose write Redis did not answer in time once to its sender, and at most once to the others', async () => {
    const { link, ann, bob } = await bobBehindProxy();
    link.freeze();
    bob.say('into the void'); // its write waits on the frozen way, unanswered
    let seenByBob = await bob.until(BUS_DOWN);
    link.thaw(); // the write goes through late
    seenByBob += await bob.until(BUS_UP);
    bob.say('out of the void');
    seenByBob += await bob.until('[bob] out of the void\n');
    const seenByAnn = await ann.until('[bob] out of the void\n');
    const times = (text: string) => text.split('[bob] into the void\n').length - 1;
    expect(times(seenByBob)).toBe(1);
    expect(times(seenByAnn)).toBeLessThanOrEqual(1);
  }, 30_000);
});

describeWithRedis('a cluster of chatd nodes through a Redis outage, Redis keeping its data', () => {
  const cluster = useCluster('kept');
  const { node } = cluster;

  it('shows nothing twice once Redis is back, and makes every node agree on who is where', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix), await node(prefix)];
    const ann = await a.join('ann');
    const eve = await a.join('eve');
    const bob = await b.join('bob');
    const carl = await b.join('carl');
    await ann.until('*** carl just joined the chatroom\n');
    ann.say('before');
    await bob.until('[ann] before\n');
    await ann.until('[ann] before\n');
    await cluster.redis().kill();
    await ann.until(BUS_DOWN);
    await bob.until(BUS_DOWN);
    carl.say('/join #games');
    await bob.until('*** carl moved to #games\n');
    eve.say('/quit');
    await ann.until('*** eve has disconnected\n');
    await cluster.redis().restart();
    const annAfter = await ann.until(BUS_UP);
    await bob.until(BUS_UP);
    ann.say('after');
    const bobAfter = await bob.until('[ann] after\n');
    expect(annAfter + (await ann.until('[ann] after\n'))).not.toMatch(/before|just joined/);
    expect(bobAfter).not.toMatch(/before|just joined/);
    for (const watcher of [ann, bob]) {
      watcher.say('/who');
      expect(await watcher.until('\n')).toMatch(/^\*\*\* 2 in #main: (ann, bob|bob, ann)\n$/);
      watcher.say('/rooms');
      expect(await watcher.until('\n')).toMatch(/^\*\*\* rooms: .*#games \(1\)/);
    }
  }, 30_000);
});
