import { once } from 'node:events';
import Redis from 'ioredis';
import { filter, firstValueFrom, type Subscription, take, toArray } from 'rxjs';
import { type RedisBus, redisBus } from '../../lib/bus/redis';
import { ENTRY_CHARS } from '../../lib/bus/redis/writer';
import type { Delivery } from '../../lib/chat/bus';
import type { ChatEvent, ModerationLoaded } from '../../lib/chat/events';
import { expand } from '../../lib/chat/roster';
import { ChatState } from '../../lib/chat/state';
import { MAX_LINE_BYTES } from '../../lib/chat/input';
import { describeWithRedis, type RedisServer, startRedis, uniquePrefix } from '../support/redis';

const said = (user: string, text: string): ChatEvent => ({ type: 'said', user, nick: user, room: '#main', text, at: 0 });
const loaded = (motd: string): ModerationLoaded => ({ type: 'moderation-loaded', fixedOps: [], ops: [], bans: [], motd, at: 0 });
const isSaid = (delivery: Delivery) => delivery.type === 'said';
/** What `bus` hands out but its questions to the chat, which a node's chat answers at once. */
const handed = (bus: RedisBus) => bus.events$.pipe(filter((delivery) => delivery.type !== 'asked'));
const restoredOf = (bus: RedisBus) => firstValueFrom(bus.events$.pipe(filter((delivery) => delivery.type === 'restored')));

/** A node's state following its bus, as a node's chat keeps it, counting the snapshots taken of it. */
interface Follower {
  readonly state: ChatState;
  outlines: number;
}
const follower = (): Follower => ({ state: new ChatState(), outlines: 0 });

/** Applies `event` to `state` as a chat does: a roster or a lost node as the user events they stand for. */
const applyTo = (state: ChatState, event: ChatEvent): void => {
  if (event.type === 'roster' || event.type === 'node-lost') expand(event, state).forEach((each) => state.apply(each));
  else state.apply(event);
};

/** Applies what `bus` hands out to the follower's state, and answers its questions, as a node's chat does. */
const follow = (bus: RedisBus, source: Follower): Subscription => bus.events$.subscribe((delivery) => {
  const { state } = source;
  if (delivery.type === 'asked') {
    const { question } = delivery;
    if (question.type === 'snapshot') source.outlines += 1;
    bus.answer(question.type === 'roster'
      ? { type: 'roster', users: state.rosterOf(bus.node) }
      : { type: 'snapshot', outline: state.outline(), changes: state.historyChanges(question.since) });
  } else if (delivery.type === 'restored') state.restore(delivery.state, delivery.rejoining);
  else if (delivery.type === 'bus-down') state.keepNode(delivery.node);
  else if (delivery.type === 'replayed') applyTo(state, delivery.event);
  else if (delivery.type === 'rejoined') {
    state.rejoin();
    applyTo(state, delivery.roster);
  } else applyTo(state, delivery);
});

describeWithRedis('redisBus', () => {
  let redis: RedisServer;
  let buses: RedisBus[] = [];
  let reads: Subscription[] = [];
  let logs: string[];
  const start = (prefix: string, reload = async () => loaded('')) => {
    const bus = redisBus({ url: redis.url, prefix, nodeId: `n${buses.length}`, limits: { maxLineBytes: MAX_LINE_BYTES }, reload, log: (line) => logs.push(line) });
    buses.push(bus);
    reads.push(bus.events$.subscribe()); // the bus reads while subscribed, as a node's chat keeps it
    return bus;
  };
  /** A bus whose events `source` applies, as a node's chat does; resolves once it has the cluster's state. */
  const following = async (prefix: string, source: Follower) => {
    const bus = start(prefix);
    const restored = restoredOf(bus);
    reads.push(follow(bus, source));
    await restored;
    return bus;
  };
  /** Resolves once Redis is told of the next write of the snapshot under `prefix` (keyspace notifications). */
  const nextSnapshot = async (prefix: string): Promise<() => Promise<void>> => {
    const [raw, listener] = [new Redis(redis.url), new Redis(redis.url)];
    await raw.config('SET', 'notify-keyspace-events', 'Kh');
    raw.disconnect();
    await listener.subscribe(`__keyspace@0__:${prefix}snapshot`);
    return async () => {
      await once(listener, 'message');
      listener.disconnect();
    };
  };
  const open = async (prefix: string) => {
    const bus = start(prefix);
    await restoredOf(bus);
    return bus;
  };

  beforeEach(async () => {
    redis = await startRedis();
    buses = [];
    reads = [];
    logs = [];
  });
  afterEach(async () => {
    await Promise.all(buses.map((bus) => bus.close()));
    reads.forEach((read) => read.unsubscribe());
    await redis.stop();
  });

  it('hands every node the events of all nodes in one order, each sender in its order', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    if (a === undefined || b === undefined) throw new Error('no bus');
    const seenByA = firstValueFrom(handed(a).pipe(filter(isSaid), take(40), toArray()));
    const seenByB = firstValueFrom(handed(b).pipe(filter(isSaid), take(40), toArray()));
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

  it('reads the cluster only while events$ is subscribed: each first reader begins from the cluster\'s state', async () => {
    const prefix = uniquePrefix();
    const bus = redisBus({ url: redis.url, prefix, nodeId: 'reader', limits: { maxLineBytes: MAX_LINE_BYTES }, reload: async () => loaded(''), log: (line) => logs.push(line) });
    buses.push(bus);
    expect(bus.health().busUp).toBe(false);
    expect(await restoredOf(bus)).toMatchObject({ type: 'restored', node: 'reader' });
    expect(bus.health().busUp).toBe(false); // the one reader is gone: nothing follows the stream
    const seen = firstValueFrom(handed(bus).pipe(take(2), toArray()));
    bus.publish(said('a', 'alone')); // nobody reads the cluster yet: round this node alone
    expect(await seen).toEqual([said('a', 'alone'), expect.objectContaining({ type: 'restored', node: 'reader' })]);
  });

  it('publishes the roster its state answers, says rejoined when it is back, and hands it out here alone when Redis will not take it', async () => {
    const source = follower();
    source.state.apply({ type: 'joined', user: 'n0:1', nick: 'ann', room: '#main', at: 0 }); // in before Redis came
    const bus = start(uniquePrefix());
    reads.push(follow(bus, source));
    const ann = { id: 'n0:1', nick: 'ann', room: '#main', connectedAt: 0 };
    expect(await firstValueFrom(handed(bus).pipe(filter((delivery) => delivery.type === 'rejoined')))).toMatchObject({ roster: { node: 'n0', users: [ann] } });
    const raw = new Redis(redis.url);
    await raw.call('ACL', 'SETUSER', 'default', '-xadd');
    // The first roster, kept in Redis, may come back as replayed, before or after the refusal.
    const seen = firstValueFrom(handed(bus).pipe(filter((delivery) => delivery.type !== 'replayed'), take(5), toArray()));
    await raw.call('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    expect((await seen).map((delivery) => delivery.type)).toEqual(['bus-down', 'restored', 'moderation-loaded', 'bus-down', 'roster']);
    expect((await seen)[4]).toMatchObject({ type: 'roster', node: 'n0', users: [ann] });
    expect(source.state.nicks()).toEqual(['ann']); // as the roster listed her, not as the cluster's state
    await raw.call('ACL', 'SETUSER', 'default', '+xadd');
    raw.disconnect();
  });

  it('tells the other nodes on leave() that this node\'s users go with it, and nobody while Redis is away', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await open(prefix), await open(prefix)];
    if (a === undefined || b === undefined) throw new Error('no bus');
    const heard = firstValueFrom(handed(b));
    a.leave();
    expect(await heard).toMatchObject({ type: 'node-lost', node: 'n0' });
    const down = firstValueFrom(handed(a).pipe(filter((event) => event.type === 'bus-down')));
    await redis.kill();
    await down;
    const next = firstValueFrom(handed(a));
    a.leave();
    a.publish(said('a', 'after'));
    expect(await next).toEqual(said('a', 'after'));
  });

  it('logs and skips entries that are not events, and events of unknown types, keeping the good events of an entry', async () => {
    const prefix = uniquePrefix();
    const bus = await open(prefix);
    const next = firstValueFrom(handed(bus).pipe(take(2), toArray()));
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
    const back = firstValueFrom(handed(bus).pipe(take(3), toArray()));
    ['one', 'two', 'three'].forEach((text) => bus.publish(said('a', text)));
    expect(await back).toEqual(['one', 'two', 'three'].map((text) => said('a', text)));
    const raw = new Redis(redis.url);
    expect(await raw.xlen(`${prefix}events`)).toBe(1);
    raw.disconnect();
  });

  it('writes long lines of one turn in entries of at most ENTRY_CHARS, and hands them back in order', async () => {
    const prefix = uniquePrefix();
    const bus = await open(prefix);
    const lines = Array.from({ length: 20 }, (_, n) => said('a', `${n} ${'x'.repeat(4000)}`));
    const back = firstValueFrom(handed(bus).pipe(take(lines.length), toArray()));
    lines.forEach((line) => bus.publish(line));
    expect(await back).toEqual(lines);
    const raw = new Redis(redis.url);
    const entries = await raw.xrange(`${prefix}events`, '-', '+');
    raw.disconnect();
    expect(entries.length).toBeGreaterThanOrEqual(Math.ceil((lines.length * 4000) / ENTRY_CHARS));
    expect(entries.every(([, fields]) => (fields[1] ?? '').length <= ENTRY_CHARS)).toBe(true);
  });

  it('hands an event Redis will not take to this node alone, logged, and rejoins the cluster, whose roster makes it whole', async () => {
    const bus = await open(uniquePrefix());
    const raw = new Redis(redis.url);
    await raw.call('ACL', 'SETUSER', 'default', '-xadd'); // as a full disk or memory would refuse writes
    const refused = firstValueFrom(handed(bus).pipe(take(2), toArray()));
    bus.publish(said('a', 'refused'));
    expect(await refused).toEqual([said('a', 'refused'), expect.objectContaining({ type: 'bus-down' })]);
    expect(logs).toContainEqual(expect.stringContaining('bus: could not write 1 events (said first)'));
    await raw.call('ACL', 'SETUSER', 'default', '+xadd');
    raw.disconnect();
    await restoredOf(bus);
    const taken = firstValueFrom(handed(bus));
    bus.publish(said('a', 'taken'));
    expect(await taken).toEqual(said('a', 'taken'));
  });

  it('tries again to rejoin when Redis takes the connection back but not yet the commands, as in a failover', async () => {
    const bus = await open(uniquePrefix());
    const down = firstValueFrom(handed(bus).pipe(filter((event) => event.type === 'bus-down')));
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
    const down = firstValueFrom(handed(bus).pipe(filter((event) => event.type === 'bus-down')));
    await redis.kill();
    expect(await down).toMatchObject({ type: 'bus-down', node: 'n0' });
    const local = firstValueFrom(handed(bus));
    bus.publish(said('a', 'alone'));
    expect(await local).toEqual(said('a', 'alone'));
    const back = restoredOf(bus);
    await redis.restart();
    expect(await back).toMatchObject({ type: 'restored', rejoining: false, state: { users: [], rooms: [] } });
    const after = firstValueFrom(handed(bus));
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
    const next = (count: number) => firstValueFrom(handed(bus).pipe(take(count), toArray()));
    const restored = expect.objectContaining({ type: 'restored' });
    expect(await next(2)).toEqual([restored, loaded('at start')]);
    for (const expected of [[restored, loaded('once back')], [restored, said('a', 'after')]]) {
      const down = firstValueFrom(handed(bus).pipe(filter((event) => event.type === 'bus-down')));
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

  it('lets one node at a time write the snapshot, by a lease, and another once that node stops', async () => {
    const prefix = uniquePrefix();
    const [one, two] = [follower(), follower()];
    const [a, b] = [await following(prefix, one), await following(prefix, two)];
    let written = await nextSnapshot(prefix);
    a.publish(said('a', 'first'));
    await written();
    written = await nextSnapshot(prefix);
    b.publish(said('b', 'second'));
    await written(); // by then each node had a turn at the snapshot at least once
    const raw = new Redis(redis.url);
    const holder = await raw.get(`${prefix}snapshot-lease`);
    const [writer, other, otherBus] = holder === 'n0' ? [one, two, b] : [two, one, a];
    expect(writer.outlines).toBeGreaterThanOrEqual(2);
    expect(other.outlines).toBe(0);
    await (holder === 'n0' ? a : b).close();
    expect(await raw.get(`${prefix}snapshot-lease`)).not.toBe(holder); // let go: the other node may hold it already
    raw.disconnect();
    written = await nextSnapshot(prefix);
    otherBus.publish(said('c', 'third'));
    await written();
    expect(other.outlines).toBeGreaterThanOrEqual(1);
  }, 30_000);

  it('keeps each room\'s history beside the snapshot and writes only the rooms changed since the last one', async () => {
    const prefix = uniquePrefix();
    const source = follower();
    const bus = await following(prefix, source);
    const inRoom = (user: string, room: string): ChatEvent => ({ type: 'joined', user, nick: user, room, at: 0 });
    const line = (user: string, room: string, text: string): ChatEvent => ({ type: 'said', user, nick: user, room, text, at: 0 });
    let written = await nextSnapshot(prefix);
    [inRoom('ann', '#one'), inRoom('bob', '#two'), line('ann', '#one', 'hi one'), line('bob', '#two', 'hi two')].forEach((event) => bus.publish(event));
    await written();
    const raw = new Redis(redis.url);
    /** The key holding `room`'s lines, as the snapshot names it. */
    const historyKey = async (room: string) => {
      const names: unknown = JSON.parse((await raw.hget(`${prefix}snapshot`, 'histories')) ?? '{}');
      const at = typeof names === 'object' && names !== null && room in names ? Reflect.get(names, room) : undefined;
      return `${prefix}history:${room}:${String(at)}`;
    };
    const twoKey = await historyKey('#two');
    expect(JSON.parse((await raw.get(twoKey)) ?? '')).toEqual([line('bob', '#two', 'hi two')]);
    expect(await raw.pttl(twoKey)).toBe(-1); // kept for good once the snapshot names it
    expect(JSON.parse((await raw.hget(`${prefix}snapshot`, 'state')) ?? '').rooms).toEqual([
      { room: '#one', topic: null, history: [], used: 1 }, { room: '#two', topic: null, history: [], used: 2 },
    ]);
    const planted = JSON.stringify([line('bob', '#two', 'planted')]);
    await raw.set(twoKey, planted); // a room written again would lose this
    const oneKey = await historyKey('#one');
    written = await nextSnapshot(prefix);
    bus.publish(line('ann', '#one', 'again'));
    await written();
    expect(await historyKey('#two')).toBe(twoKey);
    expect(await raw.get(twoKey)).toBe(planted);
    expect(JSON.parse((await raw.get(await historyKey('#one'))) ?? '')).toEqual([line('ann', '#one', 'hi one'), line('ann', '#one', 'again')]);
    expect(await raw.exists(oneKey)).toBe(0); // the key of #one's history before is gone
    raw.disconnect();
  }, 30_000);

  it('skips a snapshot it cannot read (garbage, an id past the stream), with one line, reads the stream from its start, and writes over it', async () => {
    const prefix = uniquePrefix();
    const raw = new Redis(redis.url);
    await raw.xadd(`${prefix}events`, '*', 'e', JSON.stringify([said('x', 'kept')]));
    const corrupt: [string, string][] = [['99999999999999-0', JSON.stringify({ users: [], rooms: [] })], ['1-0', '{not json'], ['garbage', '{}']];
    for (const [id, state] of corrupt) {
      await raw.hset(`${prefix}snapshot`, 'id', id, 'state', state);
      logs = [];
      const bus = start(prefix);
      reads.push(follow(bus, follower()));
      const restored = restoredOf(bus);
      const first = firstValueFrom(handed(bus).pipe(filter(isSaid)));
      expect(await restored).toMatchObject({ state: { users: [], rooms: [] } });
      expect(await first).toEqual(said('x', 'kept'));
      expect(logs).toEqual([expect.stringContaining('bus: skipped the snapshot at')]);
      await bus.close();
    }
    const source = follower();
    const bus = await following(prefix, source);
    const written = await nextSnapshot(prefix);
    bus.publish(said('a', 'after'));
    await written();
    expect(await raw.hget(`${prefix}snapshot`, 'id')).toMatch(/^\d+-\d+$/);
    expect(logs.filter((line) => line.includes('could not rejoin'))).toEqual([]);
    raw.disconnect();
  }, 30_000);

  it('skips a snapshot whose room history is not one, is missing, or holds a line no user could say', async () => {
    const prefix = uniquePrefix();
    const raw = new Redis(redis.url);
    const [id] = [await raw.xadd(`${prefix}events`, '*', 'e', JSON.stringify([said('x', 'kept')]))];
    const state = JSON.stringify({ users: [], rooms: [{ room: '#main', topic: null, history: [] }] });
    const cases: [string, string | undefined][] = [
      ['{"#main":"1-0"}', '{not json'], ['{"#main":"1-0"}', JSON.stringify([said('x', 'bell\x07')])], ['{"#main":"1-0"}', undefined], ['[1,2]', undefined], ['{not json', undefined],
    ];
    for (const [histories, history] of cases) {
      await raw.hset(`${prefix}snapshot`, 'id', id ?? '', 'state', state, 'histories', histories);
      if (history === undefined) await raw.del(`${prefix}history:#main:1-0`);
      else await raw.set(`${prefix}history:#main:1-0`, history);
      logs = [];
      const bus = start(prefix);
      expect(await restoredOf(bus)).toMatchObject({ state: { users: [], rooms: [] } });
      expect(logs).toEqual([expect.stringContaining('bus: skipped the snapshot at')]);
      await bus.close();
    }
    raw.disconnect();
  });

  it('skips, and logs, forged events whose fields break the rules typed input keeps', async () => {
    const prefix = uniquePrefix();
    const bus = await open(prefix);
    const next = firstValueFrom(handed(bus).pipe(take(2), toArray()));
    const forged: ChatEvent[] = [
      { type: 'topic', user: 'x', nick: 'x', room: '#main', topic: 'y'.repeat(100_000), at: 0 },
      { type: 'joined', user: 'x', nick: 'root\nlogin #1 root', room: '#main', at: 0 },
      { type: 'joined', user: 'x', nick: 'eve', room: '#Not A Room', at: 0 },
      said('x', `${'z'.repeat(MAX_LINE_BYTES)}z`),
      said('x', 'clear\x1b[2J'),
      { type: 'renamed', user: 'x', from: 'x', nick: '*** admin', room: '#main', at: 0 },
      { type: 'roster', node: 'n9', users: [{ id: 'n9:1', nick: 'ann\u202e', room: '#main', connectedAt: 0 }], at: 0 },
      { type: 'motd', user: 'x', nick: 'x', text: 'm'.repeat(401), at: 0 },
      { type: 'said', user: 'x'.repeat(1000), nick: 'x', room: '#main', text: 'long id', at: 0 },
    ];
    const raw = new Redis(redis.url);
    await raw.xadd(`${prefix}events`, '*', 'e', JSON.stringify([...forged, said('x', 'fine')]));
    raw.disconnect();
    bus.publish(said('a', 'still here'));
    expect(await next).toEqual([said('x', 'fine'), said('a', 'still here')]);
    const skipped = logs.filter((line) => line.startsWith('bus: skipped entry'));
    expect(skipped).toHaveLength(forged.length);
    expect(skipped[0]).toContain('topic is longer than 200 characters');
    expect(skipped[1]).toContain('nick: username must not contain control characters');
    expect(skipped.every((line) => line.length < 400)).toBe(true);
  });
});
