import Redis from 'ioredis';
import { filter, firstValueFrom, take, toArray } from 'rxjs';
import { type RedisBus, redisBus } from '../../lib/bus/redis';
import type { ChatEvent, ModerationLoaded } from '../../lib/chat/events';
import { ChatState } from '../../lib/chat/state';
import { MAX_LINE_BYTES } from '../../lib/edge/lines';
import { describeWithRedis, type RedisServer, startRedis, uniquePrefix } from '../support/redis';

const said = (user: string, text: string): ChatEvent => ({ type: 'said', user, nick: user, room: '#main', text, at: 0 });
const loaded = (motd: string): ModerationLoaded => ({ type: 'moderation-loaded', fixedOps: [], ops: [], bans: [], motd, at: 0 });
const isSaid = (event: ChatEvent) => event.type === 'said';
const restoredOf = (bus: RedisBus) => firstValueFrom(bus.events$.pipe(filter((event) => event.type === 'restored')));

describeWithRedis('redisBus', () => {
  let redis: RedisServer;
  let buses: RedisBus[] = [];
  let logs: string[];
  const start = (prefix: string, reload = async () => loaded('')) => {
    const bus = redisBus({ url: redis.url, prefix, nodeId: `n${buses.length}`, snapshot: new ChatState(), limits: { maxLineBytes: MAX_LINE_BYTES }, reload, log: (line) => logs.push(line) });
    buses.push(bus);
    return bus;
  };
  const open = async (prefix: string) => {
    const bus = start(prefix);
    await restoredOf(bus);
    return bus;
  };

  beforeEach(async () => {
    redis = await startRedis();
    buses = [];
    logs = [];
  });
  afterEach(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    await redis.stop();
  });

  it('hands every node the events of all nodes in one order, each sender in its order', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    if (a === undefined || b === undefined) throw new Error('no bus');
    const seenByA = firstValueFrom(a.events$.pipe(filter(isSaid), take(40), toArray()));
    const seenByB = firstValueFrom(b.events$.pipe(filter(isSaid), take(40), toArray()));
    for (let n = 0; n < 20; n++) {
      a.publish(said('a', String(n)));
      b.publish(said('b', String(n)));
    }
    const [byA, byB] = await Promise.all([seenByA, seenByB]);
    expect(byA).toEqual(byB);
    const from = (user: string) => byA.flatMap((event) => (event.type === 'said' && event.user === user ? [event.text] : []));
    expect(from('a')).toEqual([...Array(20).keys()].map(String));
    expect(from('b')).toEqual([...Array(20).keys()].map(String));
  });

  it('tells the other nodes on leave() that this node\'s users go with it, and nobody while Redis is away', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    if (a === undefined || b === undefined) throw new Error('no bus');
    const heard = firstValueFrom(b.events$);
    a.leave();
    expect(await heard).toMatchObject({ type: 'node-lost', node: 'n0' });
    const down = firstValueFrom(a.events$.pipe(filter((event) => event.type === 'bus-down')));
    await redis.kill();
    await down;
    const next = firstValueFrom(a.events$);
    a.leave();
    a.publish(said('a', 'after'));
    expect(await next).toEqual(said('a', 'after'));
  });

  it('logs and skips entries that are not events, and events of unknown types, keeping the good events of an entry', async () => {
    const prefix = uniquePrefix();
    const bus = await open(prefix);
    const next = firstValueFrom(bus.events$.pipe(take(2), toArray()));
    const raw = new Redis(redis.url);
    await raw.xadd(`${prefix}events`, '*', 'e', '{not json');
    await raw.xadd(`${prefix}events`, '*', 'e', JSON.stringify({ type: 'teleported', user: 'x', at: 0 }));
    await raw.xadd(`${prefix}events`, '*', 'e', JSON.stringify({ type: 'said', user: 'x' }));
    await raw.xadd(`${prefix}events`, '*', 'e', JSON.stringify([{ type: 'teleported', user: 'x', at: 0 }, said('x', 'kept')]));
    raw.disconnect();
    bus.publish(said('a', 'still here'));
    expect(await next).toEqual([said('x', 'kept'), said('a', 'still here')]);
    expect(logs.filter((line) => line.includes('skipped entry'))).toHaveLength(4);
  });

  it('writes what a node publishes in one turn as one entry, and hands its events back in order', async () => {
    const prefix = uniquePrefix();
    const bus = await open(prefix);
    const back = firstValueFrom(bus.events$.pipe(take(3), toArray()));
    ['one', 'two', 'three'].forEach((text) => bus.publish(said('a', text)));
    expect(await back).toEqual(['one', 'two', 'three'].map((text) => said('a', text)));
    const raw = new Redis(redis.url);
    expect(await raw.xlen(`${prefix}events`)).toBe(1);
    raw.disconnect();
  });

  it('hands an event Redis will not take to this node alone, logged, and rejoins the cluster, whose roster makes it whole', async () => {
    const bus = await open(uniquePrefix());
    const raw = new Redis(redis.url);
    await raw.call('ACL', 'SETUSER', 'default', '-xadd'); // as a full disk or memory would refuse writes
    const handed = firstValueFrom(bus.events$.pipe(take(2), toArray()));
    bus.publish(said('a', 'refused'));
    expect(await handed).toEqual([said('a', 'refused'), expect.objectContaining({ type: 'bus-down' })]);
    expect(logs).toContainEqual(expect.stringContaining('bus: could not write 1 events (said first)'));
    await raw.call('ACL', 'SETUSER', 'default', '+xadd');
    raw.disconnect();
    await restoredOf(bus);
    const taken = firstValueFrom(bus.events$);
    bus.publish(said('a', 'taken'));
    expect(await taken).toEqual(said('a', 'taken'));
  });

  it('tries again to rejoin when Redis takes the connection back but not yet the commands, as in a failover', async () => {
    const bus = await open(uniquePrefix());
    const down = firstValueFrom(bus.events$.pipe(filter((event) => event.type === 'bus-down')));
    const raw = new Redis(redis.url);
    await raw.call('CLIENT', 'PAUSE', '3000', 'WRITE'); // the rejoin's first writes wait, unanswered, past the command timeout
    await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    raw.disconnect();
    await down;
    await restoredOf(bus);
    expect(logs).toContainEqual(expect.stringContaining('could not rejoin the cluster yet'));
    expect(bus.health().busUp).toBe(true);
  }, 15_000);

  it('says the bus is down when Redis dies, delivers locally meanwhile, and restores when it is back', async () => {
    const bus = await open(uniquePrefix());
    const down = firstValueFrom(bus.events$.pipe(filter((event) => event.type === 'bus-down')));
    await redis.kill();
    expect(await down).toMatchObject({ type: 'bus-down', node: 'n0' });
    const local = firstValueFrom(bus.events$);
    bus.publish(said('a', 'alone'));
    expect(await local).toEqual(said('a', 'alone'));
    const back = restoredOf(bus);
    await redis.restart();
    expect(await back).toMatchObject({ type: 'restored', rejoined: true, state: { users: [], rooms: [] } });
    const after = firstValueFrom(bus.events$);
    bus.publish(said('a', 'together'));
    expect(await after).toEqual(said('a', 'together'));
  });

  it('hands out what it reloads just after each restored, before the stream goes on, and restores without it when the reload fails', async () => {
    const motds = ['at start', 'once back'];
    const bus = start(uniquePrefix(), async () => {
      const motd = motds.shift();
      if (motd === undefined) throw new Error('store away');
      return loaded(motd);
    });
    const next = (count: number) => firstValueFrom(bus.events$.pipe(take(count), toArray()));
    const restored = expect.objectContaining({ type: 'restored' });
    expect(await next(2)).toEqual([restored, loaded('at start')]);
    for (const expected of [[restored, loaded('once back')], [restored, said('a', 'after')]]) {
      const down = firstValueFrom(bus.events$.pipe(filter((event) => event.type === 'bus-down')));
      await redis.kill();
      await down;
      const back = next(2);
      const restoring = restoredOf(bus);
      await redis.restart();
      await restoring;
      bus.publish(said('a', 'after'));
      expect((await back)[0]).toEqual(restored);
      expect(await back).toEqual(expected);
    }
    expect(logs).toContainEqual(expect.stringContaining("kept this node's moderation, could not reload it: store away"));
  });
});
