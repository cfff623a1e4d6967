import Redis from 'ioredis';
import { Observable } from 'rxjs';
import { redisProblem } from '../bus/redis-problem';
import { addressGroup } from '../chat/address-group';
import { nameKey } from '../chat/names';
import { escapeControls } from '../chat/sanitize';
import { errorText } from '../error-text';
import { atOf, type KeptHashes, keyMoves, MAX_MOVE_ATTEMPTS, ownField } from './redis-key-moves';
import { redisStoreKeys } from './redis-keys';
import { redisNameBuckets } from './redis-name-buckets';
import { ANY, BAN, COUNT, LOGGED_IN, MOVE_KEYS, SET_ACCOUNT } from './redis-scripts';
import { type AccountRecord, accountTable, type AccountsChanged, type Store, type StoreChange, type StoreData } from './store';
import { StoreError } from './store-error';
import { accountRecord, listable, readData } from './validation';

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

/** The address of a ban kept as JSON, or '' when it has none (or cannot be read). */
function banAddress(text: string): string {
  try {
    const ban: unknown = JSON.parse(text);
    return typeof ban === 'object' && ban !== null && 'address' in ban && typeof ban.address === 'string' ? ban.address : '';
  } catch {
    return '';
  }
}

const isWrongType = (err: unknown): boolean => errorText(err).startsWith('WRONGTYPE');
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
