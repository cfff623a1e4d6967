import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { firstValueFrom, of, share, take, toArray } from 'rxjs';
import type { Ban } from '../../lib/chat/events';
import { redisStore, shownRedisUrl } from '../../lib/store/redis';
import { redisStoreKeys } from '../../lib/store/redis-keys';
import { type AccountRecord, accountTable, EMPTY_DATA, type Store } from '../../lib/store/store';
import { DEFAULT_GUESS_LIMITS, type GuessLimits } from '../../lib/store/throttle';
import { describeWithRedis, type RedisServer, startRedis, uniquePrefix } from '../support/redis';

const record = (name: string, hash = 'aGFzaA=='): AccountRecord => ({ name, salt: 'c2FsdA==', hash, cost: 16384 });
const register = (store: Store, key: string, kept: AccountRecord = record(key)) => store.change({ type: 'account', key, record: kept, expected: null });
const ban = (name: string, address: string, until: number | null = null): Ban => ({ name, address, until, by: 'ann', reason: '' });
const banned = (banOf: Ban, at: number) => ({ type: 'banned', user: 'n:1', nick: 'ann', ban: banOf, at }) as const;

describe('shownRedisUrl', () => {
  it('never shows the password of a Redis URL, and leaves the rest as it was', () => {
    expect(shownRedisUrl('redis://:s3cret@10.0.0.5:6379')).toBe('redis://:***@10.0.0.5:6379');
    expect(shownRedisUrl('rediss://chatd:s3cret@redis.example:6380/2')).toBe('rediss://chatd:***@redis.example:6380/2');
    expect(shownRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(shownRedisUrl('/run/redis/redis.sock')).toBe('/run/redis/redis.sock');
    expect(shownRedisUrl('redis://:s3cret@[bad')).toBe('redis://***@[bad');
  });
});

describeWithRedis('redisStore', () => {
  let redis: RedisServer;
  let raw: Redis;
  let stores: Store[];
  const open = (prefix: string): Store => {
    const store = redisStore({ url: redis.url, prefix });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    redis = await startRedis();
    raw = new Redis(redis.url);
    stores = [];
  });
  afterEach(async () => {
    await Promise.all(stores.map((store) => store.close()));
    raw.disconnect();
    await redis.stop();
  });

  it('loads nothing at first, then what any node changed, each account in a field of its own', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [open(prefix), open(prefix)];
    expect(await a.load()).toEqual(EMPTY_DATA);
    expect(await Promise.all([register(a, 'ann'), register(b, 'bob')])).toEqual([true, true]);
    expect((await open(prefix).load()).accounts).toEqual(accountTable([['ann', record('ann')], ['bob', record('bob')]]));
    expect(await b.account('ann')).toEqual(record('ann'));
    expect(await raw.hkeys(redisStoreKeys(prefix).accounts)).toEqual(['ann', 'bob']);
  });

  it('keeps the SSH keys tied to an account, for every node and after a restart', async () => {
    const prefix = uniquePrefix();
    const keys = ['SHA256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'];
    expect(await register(open(prefix), 'ann', { ...record('ann'), keys })).toBe(true);
    expect((await open(prefix).load()).accounts).toEqual(accountTable([['ann', { ...record('ann'), keys }]]));
    expect(await open(prefix).account('ann')).toEqual({ ...record('ann'), keys });
  });

  it('fails a change at once while Redis is away, but has a load wait for it to be back', async () => {
    const store = open(uniquePrefix());
    await store.load();
    await redis.kill();
    await expect(register(store, 'ann')).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }));
    const loading = store.load();
    await redis.restart();
    expect(await loading).toEqual(EMPTY_DATA);
    expect(await register(store, 'ann')).toBe(true);
  });

  it('lets one of two nodes registering one name at once have it, and changes an account only as expected', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [open(prefix), open(prefix)];
    await a.load();
    const won = await Promise.all([register(a, 'ann', record('ann', 'YQ==')), register(b, 'ann', record('ann', 'Yg=='))]);
    expect([...won].sort()).toEqual([false, true]);
    const kept = await b.account('ann');
    expect(await a.change({ type: 'account', key: 'ann', record: null, expected: 'c29tZXRoaW5nIGVsc2U=' })).toBe(false);
    expect(await a.change({ type: 'account', key: 'ann', record: null, expected: kept?.hash ?? '' })).toBe(true);
    expect(await b.account('ann')).toBeUndefined();
  });

  it('tells every other listener which name key changed, and nothing more', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [open(prefix), open(prefix)];
    await a.load();
    const changes$ = b.accountsChanged$.pipe(share()); // one connection for the two readers below
    const heard = firstValueFrom(changes$.pipe(take(3), toArray()));
    await firstValueFrom(changes$); // 'all': listening
    await register(a, 'ann');
    await a.change({ type: 'account', key: 'ann', record: null, expected: record('ann').hash });
    expect(await heard).toEqual(['all', { key: 'ann' }, { key: 'ann' }]);
  });

  it('keeps /op names, bans (oldest first, expired ones dropped at the next) and the motd', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    await store.load();
    const at = Date.now();
    await store.change({ type: 'opped', user: 'n:1', nick: 'ann', name: 'bob', at });
    await store.change({ type: 'opped', user: 'n:1', nick: 'ann', name: 'cat', account: 'cats', at });
    await store.change({ type: 'opped', user: 'n:1', nick: 'ann', name: 'bob', account: 'bobs', at });
    await store.change({ type: 'deopped', user: 'n:1', nick: 'ann', name: 'bob', at });
    await store.change(banned(ban('old', '', at - 1), at - 10));
    for (const [n, each] of [ban('dan', '10.0.0.2'), ban('eve', '10.0.0.2'), ban('fay', '10.0.0.3'), ban('gus', '')].entries()) {
      await store.change(banned(each, at + n));
    }
    await store.change({ type: 'unbanned', user: 'n:1', nick: 'ann', target: '10.0.0.2', at });
    await store.change({ type: 'unbanned', user: 'n:1', nick: 'ann', target: 'gus', at });
    await store.change({ type: 'motd', user: 'n:1', nick: 'ann', text: 'hello', at });
    expect(await open(prefix).load()).toEqual({ accounts: {}, displaced: [], ops: ['cat'], opAccounts: { cat: 'cats' }, bans: [ban('fay', '10.0.0.3')], motd: 'hello' });
  });

  it('lifts, by an unban of one address, the bans of every address of its group, as the chat\'s state does', async () => {
    const prefix = uniquePrefix();
    const store = open(prefix);
    await store.load();
    const at = Date.now();
    for (const [n, each] of [ban('dan', '2001:db8:0:1::2'), ban('eve', '2001:db8:0:1:a::3'), ban('fay', '2001:db8:0:2::2'), ban('gus', '10.0.0.2')].entries()) {
      await store.change(banned(each, at + n));
    }
    await store.change({ type: 'unbanned', user: 'n:1', nick: 'ann', target: '2001:db8:0:1::99', at });
    await store.change({ type: 'unbanned', user: 'n:1', nick: 'ann', target: '::ffff:10.0.0.2', at });
    expect((await open(prefix).load()).bans).toEqual([ban('fay', '2001:db8:0:2::2')]);
  });

  it('counts registrations per address group for every node at once, the count expiring with its window', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [open(prefix), open(prefix)];
    await a.load();
    expect(await a.countRegistration('10.0.0.1', 60_000, 120_000)).toBe(1);
    expect(await b.countRegistration('10.0.0.1', 60_000, 179_999)).toBe(2);
    expect(await b.countRegistration('2001:db8::/64', 60_000, 120_000)).toBe(1);
    expect(await a.countRegistration('10.0.0.1', 60_000, 180_000)).toBe(1); // the next window
    const ttl = await raw.pttl(redisStoreKeys(prefix).registrations('10.0.0.1', 120_000));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('notes logins beside the account, tells the other nodes of the first, and forgets them with the account', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [open(prefix), open(prefix)];
    await a.load();
    const later = { ...record('ann'), registeredAt: 1, knownAddresses: ['10.0.0.1'] };
    await raw.hset(redisStoreKeys(prefix).accounts, 'ann', JSON.stringify(later)); // as a later version writes it
    const changes$ = b.accountsChanged$.pipe(share()); // one connection for the two readers below
    const heard = firstValueFrom(changes$.pipe(take(3), toArray()));
    await firstValueFrom(changes$); // 'all': listening
    await a.loggedIn('ann', 5);
    await a.loggedIn('ann', 6); // not the first: nobody is told
    await register(a, 'bob');
    expect(await heard).toEqual(['all', { key: 'ann' }, { key: 'bob' }]);
    expect(await b.account('ann')).toEqual({ ...later, lastLoginAt: 6 });
    expect((await b.load()).accounts['ann']).toEqual({ ...later, lastLoginAt: 6 });
    expect(await a.change({ type: 'account', key: 'ann', record: null, expected: later.hash })).toBe(true);
    expect(await raw.hkeys(redisStoreKeys(prefix).logins)).toEqual([]);
  });

  it('refuses corrupt data with CHAT_STORE_CORRUPT, naming the key', async () => {
    const prefix = uniquePrefix();
    const keys = redisStoreKeys(prefix);
    await raw.hset(keys.accounts, 'ann', '{"name": "ann"');
    await expect(open(prefix).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_CORRUPT', message: `Redis ${keys.accounts} is corrupt: "ann" is not JSON` }));
    await raw.hset(keys.accounts, 'ann', '{"name": 1}');
    await expect(open(prefix).load()).rejects.toThrow('account "ann" is not a name, salt, hash and cost');
    await expect(open(prefix).account('ann')).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_CORRUPT' }));
    await raw.del(keys.accounts);
    await raw.hset(keys.bans, 'dan', '{"name": "dan"}');
    await expect(open(prefix).load()).rejects.toThrow('a ban is not a name, address, until, by and reason');
    await raw.del(keys.bans);
    await raw.set(keys.ops, 'ann');
    await expect(open(prefix).load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_CORRUPT', message: expect.stringContaining('WRONGTYPE') }));
  });

  it('loads what no user could have typed left out: a motd with escapes, a ban with a 100,000-character reason, an account with a forged name', async () => {
    const prefix = uniquePrefix();
    const keys = redisStoreKeys(prefix);
    await raw.hset(keys.accounts, 'ann', JSON.stringify(record('ann')), 'evil', JSON.stringify(record('evil\u001b[2J\nroot\t2020')));
    await raw.hset(keys.bans, 'dan', JSON.stringify({ ...ban('dan', '10.0.0.2'), reason: 'x'.repeat(100_000), at: 1 }), 'eve', JSON.stringify({ ...ban('eve', '10.0.0.3'), at: 2 }));
    await raw.set(keys.motd, `\u001b[2J\u202e${'x'.repeat(50_000)}`);
    const store = open(prefix);
    expect(await store.load()).toEqual({ ...EMPTY_DATA, accounts: accountTable([['ann', record('ann')]]), bans: [ban('eve', '10.0.0.3')] });
    expect(await store.account('evil')).toBeUndefined();
  });

  it('refuses with CHAT_STORE_UNREACHABLE when Redis does not answer, and fails a change at once while it is away', async () => {
    const folder = await mkdtemp(join(tmpdir(), 'chatd-no-redis-'));
    try {
      const nowhere = redisStore({ url: join(folder, 'none.sock'), prefix: uniquePrefix(), connectWaitMs: 200 });
      stores.push(nowhere);
      await expect(nowhere.load()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNREACHABLE' }));
      await expect(register(nowhere, 'ann')).rejects.toThrow(expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }));
    } finally {
      await rm(folder, { recursive: true, force: true });
    }
  });

  describe('name buckets', () => {
    const limits: GuessLimits = { ...DEFAULT_GUESS_LIMITS, maxWaitMs: 5000 };
    it("count a name's checks in Redis, on Redis's clock: one count for every node, whatever their clocks say", async () => {
      const prefix = uniquePrefix();
      const [a, b] = [open(prefix), open(prefix)];
      await Promise.all([a.load(), b.load()]); // as a server does before it checks anything
      const [onA, onB] = [a.nameBuckets?.(limits), b.nameBuckets?.(limits)];
      if (onA === undefined || onB === undefined) throw new Error('a Redis store shares its name buckets');
      const now = Date.now();
      const aMinuteAhead = now + 60_000; // b's clock
      const seen: (string | number)[] = [];
      for (const [buckets, at] of [[onA, now], [onB, aMinuteAhead], [onA, now], [onB, aMinuteAhead], [onA, now], [onB, aMinuteAhead]] as const) {
        const reservation = await firstValueFrom(buckets.reserve('ann', at));
        seen.push(reservation === undefined ? 'not reserved' : `${Math.round((reservation.slot - at) / 1000)} s, level ${Math.round(reservation.level)}`);
      }
      expect(seen).toEqual(['0 s, level 1', '0 s, level 2', '0 s, level 3', '1 s, level 4', '3 s, level 5', 'not reserved']); // the sixth, 7 s off, is past the longest wait
      expect(await raw.pttl(redisStoreKeys(prefix).guessesOf('ann'))).toBeGreaterThan(0); // it goes once leaked away
      onB.refund('ann', aMinuteAhead);
      onB.refund('ann', aMinuteAhead);
      await b.account('nobody'); // on the same connection: after the refunds
      const level = (await raw.hget(redisStoreKeys(prefix).guessesOf('ann'), 'level')) ?? '';
      expect(Number(level)).toBeCloseTo(3, 1);
      onA.reset('ann');
      await a.account('nobody');
      expect(await firstValueFrom(onB.reserve('ann', aMinuteAhead))).toEqual({ slot: aMinuteAhead, level: 1 });
    });

    it('count in memory while Redis is away, so that checks go on', async () => {
      const store = open(uniquePrefix());
      await store.load();
      const buckets = store.nameBuckets?.(limits);
      await redis.kill();
      expect(await firstValueFrom(buckets?.reserve('ann', 0) ?? of(undefined))).toEqual({ slot: 0, level: 1 });
    });
  });
});
