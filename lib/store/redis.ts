import Redis from 'ioredis';
import { catchError, from, map, Observable, of } from 'rxjs';
import { addressGroup } from '../chat/address-group';
import { nameKey } from '../chat/names';
import { rekeyAccounts } from './rekey';
import { type AccountRecord, accountTable, type AccountsChanged, type AccountTable, accountRecord, listable, readData, type Store, type StoreChange, type StoreData, StoreError } from './store';
import { Buckets, type GuessLimits, type NameBuckets, type Reservation } from './throttle';
import { redisProblem } from '../bus/redis-problem';
import { escapeControls } from '../chat/sanitize';
import { errorText } from '../error-text';

/** How long a load waits for Redis before it gives up: at start (without it no registered name would
 * be known), and as the bus gets Redis back (the node serves alone meanwhile). */
export const STORE_CONNECT_WAIT_MS = 5_000;

export interface RedisStoreOptions {
  /** `redis://host:port`, or the path of a unix socket. */
  readonly url: string;
  /** Put before every key, so that clusters share one Redis. */
  readonly prefix: string;
  /** How long `load` waits for Redis to answer; STORE_CONNECT_WAIT_MS unless told. */
  readonly connectWaitMs?: number;
}

/** A Redis URL as messages show it: a password in it (`redis://:secret@host`) is never shown. */
export function shownRedisUrl(url: string): string {
  if (!/^rediss?:\/\//i.test(url)) return url; // a unix socket's path
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/\/\/[^/]*@/, '//***@'); // unparseable, but the credentials, if any, stay out
  }
}

/** The keys (and the channel) of a cluster's data under `prefix`. */
export function redisStoreKeys(prefix: string) {
  return {
    /** Hash: name key -> the account as JSON. */
    accounts: `${prefix}accounts`,
    /** Hash: name key -> the name as `/op` gave it. */
    ops: `${prefix}ops`,
    opAccounts: `${prefix}op-accounts`,
    /** Hash: name key -> the ban as JSON, with `at`, when it was made, which orders them. */
    bans: `${prefix}bans`,
    /** String: the message of the day. */
    motd: `${prefix}motd`,
    /** Hash: name key -> when someone last logged in with its password (ms), apart from the
     * account, so that a login writes a number and never rewrites a record it may not know all of. */
    logins: `${prefix}logins`,
    /** String per address group and window (its start, in ms), counting its registrations; it expires with its window. */
    registrations: (group: string, windowStart: number) => `${prefix}registrations:${group}:${windowStart}`,
    /** Channel: the name key of each account changed, and nothing else. */
    accountsChanged: `${prefix}accounts-changed`,
    /** Hash: the key an account was kept under -> the account, as JSON, that lost its name to an older lookalike (rekey.ts). */
    displaced: `${prefix}displaced`,
    /** Hash (level, at, next) of a name's recent wrong password checks, expiring once they leaked away. */
    guessesOf: (nameKey: string) => `${prefix}guesses:${nameKey}`,
  };
}

// Sets (or, with no record, removes) an account only if the kept one's hash is the expected one
// ('' for none), and says so on the channel, in one step: two nodes registering one name at once
// cannot both win. A new account, or none, has no login yet.
const SET_ACCOUNT = `
local kept = redis.call('HGET', KEYS[1], ARGV[1])
local hash = ''
if kept then
  local ok, record = pcall(cjson.decode, kept)
  hash = (ok and type(record) == 'table' and type(record.hash) == 'string') and record.hash or '?'
end
if hash ~= ARGV[2] then return 0 end
if ARGV[3] == '' then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HSET', KEYS[1], ARGV[1], ARGV[3]) end
if ARGV[2] == '' or ARGV[3] == '' then redis.call('HDEL', KEYS[2], ARGV[1]) end
redis.call('PUBLISH', ARGV[4], ARGV[1])
return 1`;

// A ban replaces the name's ban before it, and expired ones go, as in the chat's state.
const BAN = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, ban = pcall(cjson.decode, all[i + 1])
  if ok and type(ban) == 'table' and type(ban['until']) == 'number' and ban['until'] <= tonumber(ARGV[3]) then redis.call('HDEL', KEYS[1], all[i]) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1`;

/** The address of a ban kept as JSON, or '' when it has none (or cannot be read). */
function banAddress(text: string): string {
  try {
    const ban: unknown = JSON.parse(text);
    return typeof ban === 'object' && ban !== null && 'address' in ban && typeof ban.address === 'string' ? ban.address : '';
  } catch {
    return '';
  }
}

// Moves fields from key to key in one step, if each checked one is still as read. ARGV is the
// channel of account changes, then, for each field: its hash (an index into KEYS; the first is
// the accounts), the field, its text as read ('' for none, ANY for unchecked) and the text to put
// ('' to remove it). Returns 0, changing nothing, when a checked field changed since it was read.
const ANY = '*'; // no account, ban (JSON) or name (which may not start with *) is this
const MOVE_KEYS = `
for i = 2, #ARGV, 4 do
  local kept = redis.call('HGET', KEYS[tonumber(ARGV[i])], ARGV[i + 1]) or ''
  if ARGV[i + 2] ~= '${ANY}' and kept ~= ARGV[i + 2] then return 0 end
end
for i = 2, #ARGV, 4 do
  local hash, field, put = KEYS[tonumber(ARGV[i])], ARGV[i + 1], ARGV[i + 3]
  if put == '' then redis.call('HDEL', hash, field) else redis.call('HSET', hash, field, put) end
  if ARGV[i] == '1' then redis.call('PUBLISH', ARGV[1], field) end
end
return 1`;

/** How many times a load moves keys before it gives up on data that keeps changing under it. */
const MAX_MOVE_ATTEMPTS = 3;

/** The hashes whose fields are name keys, as read. */
interface KeptHashes {
  readonly accounts: Record<string, string>;
  readonly ops: Record<string, string>;
  readonly bans: Record<string, string>;
}

/** One field to set or remove in a hash, if it is still as read (`kept`; none: unchecked). */
interface KeyMove {
  readonly hash: 'accounts' | 'displaced' | 'ops' | 'bans';
  readonly field: string;
  readonly kept: string | undefined;
  readonly put: string | undefined;
}

/**
 * What moves every account, `/op` name and ban to the key nameKey gives it now (rekey.ts): an
 * account that comes to share one with an older account goes to the displaced; of two bans, the
 * later stays. Removals first, so that a field one of them frees can be set again.
 */
function keyMoves(hashes: KeptHashes, accounts: AccountTable): KeyMove[] {
  const rekeyed = rekeyAccounts(Object.entries(accounts));
  const rekeyedAccounts = new Map(rekeyed.accounts);
  const accountMoves = rekeyed.changedKeys.map((field): KeyMove => {
    const record = rekeyedAccounts.get(field);
    return { hash: 'accounts', field, kept: ownField(hashes.accounts, field) ?? '', put: record === undefined ? undefined : JSON.stringify(record) };
  });
  const displaced = rekeyed.displaced.map(([field, record]): KeyMove => ({ hash: 'displaced', field, kept: undefined, put: JSON.stringify(record) }));
  const ops = Object.entries(hashes.ops).flatMap(([field, name]) => moved('ops', field, nameKey(name), name));
  const bans = Object.entries(hashes.bans)
    .map(([field, text]) => ({ field, text, ban: jsonOf(text) }))
    .sort((a, b) => atOf(a.ban) - atOf(b.ban)) // the later one put last
    .flatMap(({ field, text, ban }) => (isNamed(ban) ? moved('bans', field, nameKey(ban.name), text) : []));
  const all = [...accountMoves, ...displaced, ...ops, ...bans];
  return [...all.filter((move) => move.put === undefined), ...all.filter((move) => move.put !== undefined)];
}

/** Moving `text` from `field` to `key`, when they differ. */
const moved = (hash: 'ops' | 'bans', field: string, key: string, text: string): KeyMove[] =>
  key === field ? [] : [{ hash, field, kept: text, put: undefined }, { hash, field: key, kept: undefined, put: text }];

/** A hash's own field: never one an object inherits. */
const ownField = (hash: Record<string, string>, field: string): string | undefined => (Object.hasOwn(hash, field) ? hash[field] : undefined);

/** `text` parsed, or undefined when it is not JSON (a load has refused it already). */
function jsonOf(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const isNamed = (value: unknown): value is { readonly name: string } =>
  typeof value === 'object' && value !== null && 'name' in value && typeof value.name === 'string';

// A name's bucket of wrong checks, as `reserved` and `refunded` in throttle.ts compute it, in one
// step, on Redis's clock: checks made on two nodes at once are spaced as if made on one, and a
// node whose clock is off waits no more for it. Answers the wait before the check's turn (-1:
// past the longest wait, not reserved) and the level. ARGV: mode, leakMs, free checks, first
// spacing, longest wait.
const GUESSES = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local leak, free, first, cap = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local kept = redis.call('HMGET', KEYS[1], 'level', 'at', 'next')
local level = math.max(0, (tonumber(kept[1]) or 0) - math.max(0, now - (tonumber(kept[2]) or now)) / leak)
local nextAt = tonumber(kept[3]) or now
local slot = math.max(now, nextAt)
if ARGV[1] == 'refund' then
  level = math.max(0, level - 1)
else
  if slot - now > cap then return {-1, tostring(level)} end
  level = level + 1
  local spacing = 0
  if math.ceil(level) >= free then spacing = math.min(cap, first * 2 ^ (level - free)) end
  nextAt = slot + spacing
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(now), 'next', tostring(nextAt))
redis.call('PEXPIRE', KEYS[1], math.ceil(level * leak + math.max(0, nextAt - now)) + 1000)
return {slot - now, tostring(level)}`;

// Notes a login; the first one is announced, for an account never logged into expires (and every
// node must learn that this one no longer will).
const LOGGED_IN = `
if redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) == 1 then redis.call('PUBLISH', ARGV[3], ARGV[1]) end
return 1`;

// Counts one registration in its window's key, which goes once the window (ARGV[1] ms) is over.
const COUNT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return count`;

const isWrongType = (err: unknown): boolean => errorText(err).startsWith('WRONGTYPE');
const atOf = (value: unknown): number =>
  typeof value === 'object' && value !== null && 'at' in value && typeof value.at === 'number' ? value.at : 0;

/** A hash's field read as JSON. */
function jsonField(key: string, field: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new StoreError('CHAT_STORE_CORRUPT', `Redis ${key} is corrupt: ${JSON.stringify(field)} is not JSON`);
  }
}

/** Each field of a hash read as JSON, in the hash's order. */
const jsonFields = (key: string, hash: Record<string, string>): [string, unknown][] =>
  Object.entries(hash).map(([field, text]) => [field, jsonField(key, field, text)]);

/** `record` with the login time kept beside it, when there is one: it is newer than any in the record. */
function withLogin(record: AccountRecord, login: string | undefined): AccountRecord {
  const lastLoginAt = Number(login);
  return login === undefined || !Number.isFinite(lastLoginAt) ? record : { ...record, lastLoginAt };
}

/** Replies of a MULTI, each checked, in order. */
function replies(key: string, results: [Error | null, unknown][] | null): unknown[] {
  if (results === null) throw new StoreError('CHAT_STORE_UNREACHABLE', 'Redis dropped a read of the data');
  return results.map(([err, value]) => {
    if (err === null) return value;
    throw new StoreError('CHAT_STORE_CORRUPT', `Redis data under ${key} is corrupt: ${escapeControls(err.message)}`);
  });
}

const isHash = (value: unknown): value is Record<string, string> =>
  typeof value === 'object' && value !== null && Object.values(value).every((field) => typeof field === 'string');

/**
 * The data in Redis, shared by every node of a cluster: each account, `/op` name and ban in a
 * field of its own, so that changes made at once on two nodes both stay; an account changes only
 * if it is still the one its change was checked against. Each account change is announced on a
 * channel by its name key alone (never a hash), which `accountsChanged$` listens to.
 */
export function redisStore(options: RedisStoreOptions): Store {
  const keys = redisStoreKeys(options.prefix);
  const connectWaitMs = options.connectWaitMs ?? STORE_CONNECT_WAIT_MS;
  const connect = () => {
    const redis = new Redis(options.url, {
      enableOfflineQueue: false, // while Redis is away a change fails at once, rather than waiting in a queue
      maxRetriesPerRequest: 0,
      autoResubscribe: false, // `accountsChanged$` subscribes at each 'ready', and reads everything again
      retryStrategy: (times) => Math.min(times * 100, 1_000),
      // Closing a connection whose Redis died, ioredis waits this long for a 'close' that already
      // came (2 s by default), holding a stopping process open.
      disconnectTimeout: 100,
    });
    redis.on('error', () => {}); // a failed command says what went wrong; ioredis reconnects by itself
    return redis;
  };
  const commands = connect();
  const pending = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    pending.add(work);
    const done = () => pending.delete(work);
    work.then(done, done);
    return work;
  };
  const unreachable = (err: unknown) => new StoreError('CHAT_STORE_UNREACHABLE', `cannot reach Redis at ${shownRedisUrl(options.url)}: ${redisProblem(err)}`);

  let everReady = false;
  commands.once('ready', () => (everReady = true));
  let lastError = ''; // why Redis does not answer (a wrong password, a refused connection): said when giving up
  commands.on('error', (err: unknown) => (lastError = errorText(err)));
  /**
   * Resolves once Redis answers. A node's first command waits for it, and so does every load (the
   * bus reloads as Redis comes back, and this connection may come back a little later than its);
   * other commands fail at once while it is away.
   */
  const connected = (always = false): Promise<void> =>
    // 'ready' alone is not enough: a Redis that just died leaves it set until ioredis sees the close.
    (commands.status === 'ready' && commands.stream.writable) || (everReady && !always)
      ? Promise.resolve()
      : new Promise((resolve, reject) => {
          const onReady = () => {
            clearTimeout(wait);
            resolve();
          };
          const wait = setTimeout(() => {
            commands.off('ready', onReady);
            reject(unreachable(`no answer in ${connectWaitMs} ms${lastError === '' ? '' : ` (${lastError})`}`));
          }, connectWaitMs);
          commands.once('ready', onReady);
        });

  /** Everything kept, as read, and as StoreData; the login times apart. */
  const readAll = async (): Promise<{ readonly hashes: KeptHashes; readonly data: StoreData; readonly logins: Record<string, string> }> => {
    const read = await commands.multi().hgetall(keys.accounts).hgetall(keys.ops).hgetall(keys.bans).get(keys.motd).hgetall(keys.displaced).hgetall(keys.opAccounts).hgetall(keys.logins).exec().catch((err: unknown) => {
      throw unreachable(err);
    });
    const [accounts, ops, bans, motd, displaced, opAccounts, logins] = replies(options.prefix, read);
    if (!isHash(accounts) || !isHash(ops) || !isHash(bans) || !isHash(displaced) || !isHash(opAccounts) || !isHash(logins)) throw new StoreError('CHAT_STORE_CORRUPT', `Redis data under ${options.prefix} is not chatd's`);
    const banList = jsonFields(keys.bans, bans).map(([, ban]) => ban).sort((a, b) => atOf(a) - atOf(b));
    const data = readData({
      accounts: Object.fromEntries(jsonFields(keys.accounts, accounts)),
      displaced: jsonFields(keys.displaced, displaced).map(([, record]) => record),
      ops: Object.values(ops),
      opAccounts,
      bans: banList,
      motd: motd ?? '',
    });
    if (typeof data === 'string') throw new StoreError('CHAT_STORE_CORRUPT', `Redis data under ${options.prefix} is corrupt: ${data}`);
    return { hashes: { accounts, ops, bans }, data, logins };
  };

  /** Moves what an older chatd kept under other name keys (rekey.ts), and reads everything again,
   * until nothing is left to move: two nodes that start at once move it once. */
  const load = async (): Promise<StoreData> => {
    await connected(true);
    for (let attempt = 1; ; attempt++) {
      const { hashes, data, logins } = await readAll();
      const moves = keyMoves(hashes, data.accounts);
      if (moves.length === 0) return { ...data, accounts: accountTable(Object.entries(data.accounts).map(([key, record]) => [key, withLogin(record, ownField(logins, key))])) };
      if (attempt > MAX_MOVE_ATTEMPTS) throw new StoreError('CHAT_STORE_UNWRITABLE', `could not move the name keys under ${options.prefix}: they kept changing`);
      const hashKeys = [keys.accounts, keys.displaced, keys.ops, keys.bans];
      const args = moves.flatMap(({ hash, field, kept, put }) => [String(hashKeys.indexOf(keys[hash]) + 1), field, kept ?? ANY, put ?? '']);
      await commands.eval(MOVE_KEYS, hashKeys.length, ...hashKeys, keys.accountsChanged, ...args).catch((err: unknown) => {
        throw unreachable(err);
      });
    }
  };

  const account = async (key: string): Promise<AccountRecord | undefined> => {
    await connected();
    const read = await commands.multi().hget(keys.accounts, key).hget(keys.logins, key).exec().catch((err: unknown) => {
      throw unreachable(err);
    });
    const [text, login] = replies(keys.accounts, read);
    if (text === null) return undefined;
    const record = typeof text === 'string' ? accountRecord(jsonField(keys.accounts, key, text)) : undefined;
    if (record === undefined) throw new StoreError('CHAT_STORE_CORRUPT', `Redis ${keys.accounts} is corrupt: account ${JSON.stringify(key)} is not a name, salt, hash and cost`);
    return listable(record) ? withLogin(record, typeof login === 'string' ? login : undefined) : undefined; // skipped, as load skips it
  };

  /** The fields of the bans an unban of `target` lifts, as the chat's state does: its name's, and
   * every ban of an address in its group (an IPv6 address's /64). */
  const liftedBy = async (target: string): Promise<string[]> => {
    const group = addressGroup(target);
    const bans = await commands.hgetall(keys.bans);
    const ofGroup = Object.entries(bans).filter(([, text]) => {
      const address = banAddress(text);
      return address !== '' && addressGroup(address) === group;
    });
    return [nameKey(target), ...ofGroup.map(([field]) => field)];
  };

  /** The one write that makes `change`; resolves with whether it was made. */
  const write = async (change: StoreChange): Promise<boolean> => {
    await connected();
    switch (change.type) {
      case 'account': {
        const record = change.record === null ? '' : JSON.stringify(change.record);
        return (await commands.eval(SET_ACCOUNT, 2, keys.accounts, keys.logins, change.key, change.expected ?? '', record, keys.accountsChanged)) === 1;
      }
      case 'opped': { // the account first: a grant is never read without the account it was given to
        const key = nameKey(change.name);
        await (change.account === undefined ? commands.hdel(keys.opAccounts, key) : commands.hset(keys.opAccounts, key, change.account));
        await commands.hset(keys.ops, key, change.name);
        break;
      }
      case 'deopped':
        await commands.hdel(keys.ops, nameKey(change.name));
        await commands.hdel(keys.opAccounts, nameKey(change.name));
        break;
      case 'banned': await commands.eval(BAN, 1, keys.bans, nameKey(change.ban.name), JSON.stringify({ ...change.ban, at: change.at }), change.at); break;
      case 'unbanned': await commands.hdel(keys.bans, ...(await liftedBy(change.target))); break;
      case 'motd': await commands.set(keys.motd, change.text); break;
    }
    return true;
  };

  const change = (next: StoreChange): Promise<boolean> =>
    track(
      write(next).catch((err: unknown) => {
        const code = isWrongType(err) ? 'CHAT_STORE_CORRUPT' : 'CHAT_STORE_UNWRITABLE';
        throw new StoreError(code, `cannot write ${next.type} to Redis at ${shownRedisUrl(options.url)}: ${redisProblem(err)}`);
      }),
    );

  const loggedIn = async (key: string, at: number): Promise<void> => {
    // A lost login time costs nothing else.
    await track(commands.eval(LOGGED_IN, 1, keys.logins, key, String(at), keys.accountsChanged)).catch(() => {});
  };

  const countRegistration = async (group: string, windowMs: number, at: number): Promise<number> => {
    await connected();
    const key = keys.registrations(group, at - (at % windowMs)); // the window every node counts in
    const count = await commands.eval(COUNT, 1, key, windowMs).catch((err: unknown) => {
      throw unreachable(err);
    });
    if (typeof count !== 'number') throw new StoreError('CHAT_STORE_CORRUPT', `Redis ${key} is not a count`);
    return count;
  };

  const accountsChanged$ = new Observable<AccountsChanged>((subscriber) => {
    const listener = connect(); // a subscribed connection takes no other commands
    const onReady = () => {
      listener.subscribe(keys.accountsChanged).then(
        () => subscriber.next('all'), // what changed before, or while away, was not heard
        () => {}, // the connection went again; its next 'ready' tries again
      );
    };
    const onMessage = (_channel: string, key: string) => subscriber.next({ key });
    listener.on('ready', onReady).on('message', onMessage);
    return () => listener.disconnect();
  });

  const close = async () => {
    await Promise.allSettled([...pending]);
    if (commands.status === 'ready') await commands.quit().catch(() => commands.disconnect());
    else commands.disconnect(); // a quit would wait for a connection that may never come
  };

  return { load, account, change, loggedIn, countRegistration, accountsChanged$, close, nameBuckets: (limits) => redisNameBuckets(commands, keys.guessesOf, limits) };
}

/** `[wait, level]` as the GUESSES script answers it, the wait from `now` on this node's clock; a wait of -1 is no reservation. */
function reservationOf(reply: unknown, now: number): Reservation | undefined {
  if (!Array.isArray(reply)) throw new StoreError('CHAT_STORE_CORRUPT', 'Redis answered a guess count with no list');
  const [wait, level] = reply;
  if (typeof wait !== 'number' || typeof level !== 'string') throw new StoreError('CHAT_STORE_CORRUPT', 'Redis answered a guess count with no wait and level');
  return wait < 0 ? undefined : { slot: now + wait, level: Number(level) };
}

/**
 * Names' buckets in Redis, shared by every node: guessing one name on several nodes is as slow as
 * on one. While Redis cannot answer, this node counts in its own memory: slowed alike, never
 * refusing every check for want of Redis.
 */
function redisNameBuckets(redis: Redis, keyOf: (nameKey: string) => string, limits: GuessLimits): NameBuckets {
  const local = new Buckets(limits);
  const figures = [limits.leakMs, limits.freeWrongChecks, limits.firstSpacingMs, limits.maxWaitMs];
  const run = (mode: 'reserve' | 'refund', key: string): Promise<unknown> => redis.eval(GUESSES, 1, keyOf(key), mode, ...figures);
  return {
    reserve: (key, now): Observable<Reservation | undefined> =>
      from(run('reserve', key)).pipe(
        map((reply) => reservationOf(reply, now)),
        catchError(() => of(local.reserve(key, now))),
      ),
    refund: (key, now) => {
      local.refund(key, now);
      run('refund', key).catch(() => {});
    },
    reset: (key) => {
      local.reset(key);
      redis.del(keyOf(key)).catch(() => {});
    },
  };
}
