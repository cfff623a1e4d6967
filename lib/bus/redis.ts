import Redis from 'ioredis';
import { Observable, Subject } from 'rxjs';
import { type ChatEvent, type HistoryEvent, isChatEvent, isStateData, type ModerationLoaded, type StateData } from '../chat/events';
import type { HistoryChanges } from '../chat/state';
import { eventProblem, stateProblem, type WireLimits } from '../chat/wire';
import type { Bus } from '../chat/bus';
import type { ClusterHealth } from './health';
import { redisProblem } from './redis-problem';

/** How often a node says it is alive. */
export const HEARTBEAT_MS = 3_000;
/** How long a node's word that it is alive holds: a node silent this long is dead. */
export const NODE_TTL_MS = 10_000;
/** How often each node looks for dead ones. With the two above, a death is seen within 12 s. */
export const REAP_EVERY_MS = 2_000;
/** How often a node offers a snapshot of the state, when events came since the last one. */
export const SNAPSHOT_EVERY_MS = 5_000;
/**
 * How long the lease to write snapshots holds unless renewed: one node at a time writes them, and
 * renews it at each write; a node that died leaves it to another within this.
 */
export const SNAPSHOT_LEASE_MS = 3 * SNAPSHOT_EVERY_MS;
/**
 * History a snapshot serialises and sends in one part, in characters of JSON, before it waits for
 * Redis's answer and lets the chat go on: many rooms' histories are written in parts, never in one
 * go, and neither this node nor Redis is held by one.
 */
export const SNAPSHOT_PART_CHARS = 256 * 1024;
/** How long a part of a snapshot that was never completed (its node died, or lost the lease) stays in Redis. */
const SNAPSHOT_PART_TTL_MS = 4 * SNAPSHOT_LEASE_MS;
/** Stream entries one read takes at most: with ENTRY_EVENTS, what one turn of a catching-up node hands out. */
export const READ_BATCH_ENTRIES = 100;
/**
 * Events one stream entry holds at most. A node writes what it published in one turn of the
 * event loop as one entry: one command, one entry id and one parse for the whole turn, where an
 * entry per event made each node's cost grow with every line of the cluster.
 */
export const ENTRY_EVENTS = 500;
/**
 * Characters of JSON one stream entry holds at most (an event longer than this has an entry to
 * itself): entries of long lines stay small, so that what one read hands out is bounded in bytes
 * (READ_BATCH_ENTRIES of them), not only in entries.
 */
export const ENTRY_CHARS = 32 * 1024;
/**
 * Characters of entries a node hands out in one turn of its event loop before it lets the rest of
 * the chat (its users' input, the snapshot) have a turn: a read of long lines never holds it long.
 */
export const READ_TURN_CHARS = 256 * 1024;
/** How long one blocking read of the stream waits for an event. */
const READ_BLOCK_MS = 1_000;
/**
 * How long Redis has to answer a command before this node takes it as out of reach: a network
 * that drops packets closes nothing, and without this the node would wait on it for ever.
 */
export const COMMAND_TIMEOUT_MS = 2_000;
/** How long a node whose rejoining failed, its connection still up, waits before trying again. */
const RECOVER_RETRY_MS = 1_000;
/** How long the reader waits before trying again while Redis is out of reach. */
const RETRY_MS = 100;
/**
 * How long a starting node's bus waits for the cluster's state before it serves alone (until
 * Redis comes). The data store has reached Redis by then (a node does not start without it), so
 * this bounds only a Redis lost in between.
 */
export const FIRST_CONNECT_WAIT_MS = 5_000;
/** How long a dead node's reaping is claimed: the one node that claims it announces the departures. */
const REAPED_TTL_SECONDS = 60;

export interface RedisBusOptions {
  /** `redis://host:port`, or the path of a unix socket. */
  readonly url: string;
  /** Put before every key, so that clusters share one Redis. */
  readonly prefix: string;
  /** This node, unique per process start: the prefix of its users' ids. */
  readonly nodeId: string;
  /** The state as of the last event handed out: what a snapshot holds. */
  readonly snapshot: SnapshotSource;
  /** The limits set by flags that events on the bus are checked against: every node of a cluster must share them. */
  readonly limits: WireLimits;
  /**
   * Reads again the cluster's data that the snapshot does not hold (moderation's, from the store),
   * as the event that loads it: handed out just after `restored`, before the stream's events that
   * follow the snapshot, so a change another node made meanwhile holds here too. Rejecting keeps
   * this node's as it was, and is logged.
   */
  readonly reload: () => Promise<ModerationLoaded>;
  /** Where the bus says what went wrong (bad entries, lost writes, outages). */
  readonly log: (message: string) => void;
}

/** What a snapshot is made of: the state but for its rooms' histories, and those apart, only the rooms changed. */
export interface SnapshotSource {
  /** The state, every room's history left out. */
  outline(): StateData;
  /** The rooms whose history changed after `since` (0 at first), and the version to ask from next. */
  historyChanges(since: number): HistoryChanges;
}

/** A bus on Redis, which a node closes on shutdown once its last events are written. */
export interface RedisBus extends Bus {
  /** How this node sees the cluster now. */
  health(): ClusterHealth;
  /** Resolves once the node has the cluster's state, or has waited FIRST_CONNECT_WAIT_MS for it. */
  readonly ready: Promise<void>;
  /**
   * Says on the bus that this node's users leave with it, as a node-lost of its own, so that the
   * rooms they empty keep their history. For a node about to stop, before its sessions end (their
   * own departures then change nothing). While Redis is out of reach nobody would hear it, and
   * this node must not: it does nothing.
   */
  leave(): void;
  /** Writes what was published, stops heartbeats, leaves the cluster; resolves once disconnected. */
  close(): Promise<void>;
}

// The lease to write snapshots, taken (SET NX PX) or renewed by the node that holds it; 1 when it is this node's.
const TAKE_LEASE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

// Keeps the snapshot only if this node holds the lease and it is newer than the stored one. Each
// room's history is in a key of its own, named for the snapshot that wrote it; the rooms that
// changed (ARGV[6]) were written before, with an expiry that this takes off (one expired since, the
// snapshot is not kept: it would name a history that is not there); the others keep the
// key the stored snapshot names, and the keys no longer named go. Then trims the stream below the
// snapshot before: a node that read the older one is still reading the events after it. A stored
// id that is not one (garbage) or is past the stream's end (forged) is written over, never obeyed.
const SAVE_SNAPSHOT = `
if redis.call('GET', KEYS[3]) ~= ARGV[3] then return -1 end
local function id(text) local ms, seq = string.match(text or '', '^(%d+)-(%d+)$') return tonumber(ms), tonumber(seq) end
local function before(ams, aseq, bms, bseq) return ams < bms or (ams == bms and aseq < bseq) end
local prev = redis.call('HGET', KEYS[1], 'id')
local pms, pseq = id(prev)
if pms then
  local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
  local lms, lseq = id(last and last[1])
  if not lms or before(lms, lseq, pms, pseq) then pms = nil end
end
local nms, nseq = id(ARGV[1])
if pms and not before(pms, pseq, nms, nseq) then return 0 end
local ok, old = pcall(cjson.decode, redis.call('HGET', KEYS[1], 'histories') or '{}')
if not ok or type(old) ~= 'table' then old = {} end
local changed, refs = {}, {}
for _, room in ipairs(cjson.decode(ARGV[6])) do
  if redis.call('EXISTS', ARGV[4] .. room .. ':' .. ARGV[1]) == 0 then return -2 end
  changed[room] = true
end
for _, room in ipairs(cjson.decode(ARGV[5])) do
  if changed[room] then
    refs[room] = ARGV[1]
    redis.call('PERSIST', ARGV[4] .. room .. ':' .. ARGV[1])
  elseif type(old[room]) == 'string' then refs[room] = old[room] end
end
for room, at in pairs(old) do
  if type(room) == 'string' and type(at) == 'string' and refs[room] ~= at then redis.call('UNLINK', ARGV[4] .. room .. ':' .. at) end
end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'state', ARGV[2], 'histories', cjson.encode(refs))
if pms then redis.call('XTRIM', KEYS[2], 'MINID', prev) end
return 1`;

// The snapshot and the histories it names, read at once: a snapshot written between two reads would
// mix two. Its third item says where the histories are: 'apart' (in keys of their own, the fourth
// item: room, lines, ...), false (in the state, from a node before), or 'garbage'.
const LOAD_SNAPSHOT = `
local id = redis.call('HGET', KEYS[1], 'id')
local state = redis.call('HGET', KEYS[1], 'state')
local refs = redis.call('HGET', KEYS[1], 'histories')
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
local lines = {}
if not refs then return { id, state, false, lines, last } end
local ok, decoded = pcall(cjson.decode, refs)
if not ok or type(decoded) ~= 'table' then return { id, state, 'garbage', lines, last } end
for room, at in pairs(decoded) do
  if type(room) ~= 'string' or type(at) ~= 'string' then return { id, state, 'garbage', {}, last } end
  table.insert(lines, room)
  table.insert(lines, redis.call('GET', ARGV[1] .. room .. ':' .. at))
end
return { id, state, 'apart', lines, last }`;

const EMPTY_STATE: StateData = { users: [], rooms: [] };
/** True when stream entry id `a` comes before `b`. */
const isBefore = (a: string, b: string): boolean => {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs < bMs || (aMs === bMs && aSeq < bSeq);
};
const later = (a: string, b: string): string => (isBefore(a, b) ? b : a);
const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Events as stream entries: at most ENTRY_EVENTS and (but for one long event) ENTRY_CHARS each, in order. */
function entriesOf(batch: readonly ChatEvent[]): { readonly events: ChatEvent[]; readonly json: string }[] {
  const made: { events: ChatEvent[]; json: string }[] = [];
  let events: ChatEvent[] = [];
  let texts: string[] = [];
  let chars = 0;
  for (const event of batch) {
    const text = JSON.stringify(event);
    if (events.length >= ENTRY_EVENTS || (events.length > 0 && chars + text.length > ENTRY_CHARS)) {
      made.push({ events, json: `[${texts.join(',')}]` });
      [events, texts, chars] = [[], [], 0];
    }
    events.push(event);
    texts.push(text);
    chars += text.length + 1;
  }
  if (events.length > 0) made.push({ events, json: `[${texts.join(',')}]` });
  return made;
}
const STREAM_ID = /^\d+-\d+$/;

/** A snapshot as read, whole or skipped. */
interface LoadedSnapshot {
  readonly id: string;
  readonly state: StateData;
  /** False when its rooms' histories are not (all) beside it in Redis: the next snapshot writes every one. */
  readonly historiesApart: boolean;
}

const NO_SNAPSHOT: LoadedSnapshot = { id: '0-0', state: EMPTY_STATE, historiesApart: false };

/** A Lua reply's item as text, or undefined. */
const textOf = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

const parsed = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * The bus of a cluster: events are appended to one Redis Stream, which gives them one order, and
 * come back to every node (this one too) from a blocking read of it. A node that starts or gets
 * Redis back begins from the latest snapshot (`restored`) and reads on from there. While Redis is
 * out of reach, `bus-down` is handed out and events go round this node alone, as do those Redis
 * would not take. Entries that are not events are logged and skipped. `events$` never errors or
 * completes.
 */
export function redisBus(options: RedisBusOptions): RedisBus {
  const { prefix, nodeId, log } = options;
  const keys = {
    stream: `${prefix}events`,
    snapshot: `${prefix}snapshot`,
    /** The history of `room` as the snapshot at stream id `at` wrote it. */
    history: (room: string, at: string) => `${prefix}history:${room}:${at}`,
    histories: `${prefix}history:`,
    lease: `${prefix}snapshot-lease`,
    nodes: `${prefix}nodes`,
    node: (node: string) => `${prefix}node:${node}`,
    reaped: (node: string) => `${prefix}reaped:${node}`,
  };
  const connect = (commandTimeout: number) => {
    const redis = new Redis(options.url, {
      commandTimeout,
      enableOfflineQueue: false, // while Redis is away events go round this node, never into a queue
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times) => Math.min(times * 100, 1_000),
      // Closing a connection whose Redis died, ioredis waits this long for a 'close' that already
      // came (2 s by default), holding a stopping process open.
      disconnectTimeout: 100,
    });
    redis.on('error', () => {}); // the 'close' below is what counts; ioredis reconnects by itself
    return redis;
  };
  const commands = connect(COMMAND_TIMEOUT_MS);
  const reader = connect(READ_BLOCK_MS + COMMAND_TIMEOUT_MS); // a blocking read holds its connection
  const events = new Subject<ChatEvent>();
  let up = false;
  let nodesAlive = 1;
  let everUp = false;
  let closed = false;
  let lastId = '0-0';
  let savedId = '0-0';
  let historySaved = 0; // the state's history version the last snapshot written here holds
  let saving = false;
  let shownUpTo = '0-0'; // the last entry handed out before an outage: what this node's users saw
  let replayUntil: string | undefined; // after a recovery, until read: entries shown before it
  let generation = 0; // a recovery moves the read position; a read begun before it is void
  let recovering = false;
  let retry: NodeJS.Timeout | undefined;
  let readyAgain = false;
  let lastWrite: Promise<unknown> = Promise.resolve();
  // The snapshot is the state of whoever reads `events$`: with no reader (a node closing) that
  // state no longer follows the stream, and saved with the stream's position it would be wrong.
  let readers = 0;
  const events$ = new Observable<ChatEvent>((subscriber) => {
    readers += 1;
    const reading = events.subscribe(subscriber);
    return () => {
      readers -= 1;
      reading.unsubscribe();
    };
  });
  let joined = () => {};
  const ready = new Promise<void>((resolve) => {
    const wait = setTimeout(resolve, FIRST_CONNECT_WAIT_MS);
    joined = () => {
      clearTimeout(wait);
      resolve();
    };
  });

  const skip = (id: string, why: string, text: string) => log(`bus: skipped entry ${id}, ${why}: ${text.slice(0, 200)}`);

  // An entry holds an array of events (or, from a node before batching, one event), and the write
  // that made it. One of this node's writes that failed, its events handed out here then, is
  // applied again (the state was restored since) and not shown again.
  const hand = (id: string, fields: string[]) => {
    const shown = settleWrite(fields[3]);
    if (!shown) events.next({ type: 'replaying', node: nodeId, at: Date.now() });
    handEvents(id, fields[1] ?? '');
    if (!shown) events.next({ type: 'caught-up', node: nodeId, at: Date.now() });
  };

  const handEvents = (id: string, text: string) => {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = undefined;
    }
    for (const event of Array.isArray(value) ? value : [value]) {
      const problem = isChatEvent(event) ? eventProblem(event, options.limits) : 'not an event this node knows';
      if (problem !== undefined) skip(id, problem, JSON.stringify(event) ?? text);
      else if (isChatEvent(event)) events.next(event);
    }
  };

  const read = async () => {
    while (!closed) {
      if (!up) {
        await pause(RETRY_MS);
        continue;
      }
      const from = generation;
      try {
        const reply = await reader.xread('COUNT', READ_BATCH_ENTRIES, 'BLOCK', READ_BLOCK_MS, 'STREAMS', keys.stream, lastId);
        if (from !== generation || closed || !up) continue; // begun before an outage: read again after it
        let chars = 0;
        for (const [id, fields] of (reply ?? []).flatMap(([, entries]) => entries)) {
          if (replayUntil !== undefined && isBefore(replayUntil, id)) catchUp();
          lastId = id;
          hand(id, fields);
          chars += fields[1]?.length ?? 0;
          if (chars < READ_TURN_CHARS) continue;
          chars = 0;
          await nextTurn();
          if (from !== generation || closed || !up) break; // an outage meanwhile: the rest is read again after it
        }
        if (from !== generation || closed || !up) continue;
        if (replayUntil !== undefined && (reply === null || lastId === replayUntil)) catchUp();
      } catch {
        if (!closed) await pause(RETRY_MS);
      }
    }
  };

  const catchUp = () => {
    replayUntil = undefined;
    events.next({ type: 'caught-up', node: nodeId, at: Date.now() });
  };

  // What this node showed after the snapshot it rejoins from comes again, to rebuild the state, and
  // is not shown twice. Not when the stream lost it (a Redis restarted empty): what comes is new.
  const replayFrom = async (snapshotId: string): Promise<string | undefined> => {
    if (!isBefore(snapshotId, shownUpTo)) return undefined;
    const kept = await commands.xrange(keys.stream, shownUpTo, shownUpTo);
    return kept.length > 0 ? shownUpTo : undefined;
  };

  // A snapshot that is not one chatd writes (garbage, forged, of a newer node) is skipped, once, with
  // one line: the node reads the stream from its start (what is left of it) rather than loop on it.
  const loadSnapshot = async (): Promise<LoadedSnapshot> => {
    const reply: unknown = await commands.eval(LOAD_SNAPSHOT, 2, keys.snapshot, keys.stream, keys.histories);
    const [id, text, apart, histories, last] = Array.isArray(reply) ? reply : [];
    const found = textOf(id);
    if (found === undefined && textOf(text) === undefined) return NO_SNAPSHOT;
    const lastId = Array.isArray(last) ? textOf(last[0]) : undefined;
    const state = textOf(apart) === 'garbage'
      ? 'the histories it names are not a list'
      : snapshotState(found, textOf(text), textOf(apart) === 'apart' ? histories : undefined, lastId);
    if (found === undefined || typeof state === 'string') {
      log(`bus: skipped the snapshot at ${JSON.stringify(found ?? null).slice(0, 60)}, ${typeof state === 'string' ? state : 'it has no id'}; reading the stream from its start`);
      return NO_SNAPSHOT;
    }
    return { id: found, state, historiesApart: textOf(apart) === 'apart' };
  };

  /** The state a snapshot holds, its histories put back in; or why it is not one. */
  const snapshotState = (id: string | undefined, text: string | undefined, histories: unknown, lastId: string | undefined): StateData | string => {
    if (id === undefined || !STREAM_ID.test(id)) return 'its id is not a stream id';
    if (lastId === undefined || isBefore(lastId, id)) return 'its id is past the end of the stream';
    const state = parsed(text ?? '');
    if (!isStateData(state)) return 'not a state this node knows';
    const lines = historiesOf(histories);
    if (typeof lines === 'string') return lines;
    const rooms = state.rooms.map((room) => ({ ...room, history: lines.get(room.room) ?? room.history }));
    const whole = { users: state.users, rooms };
    return stateProblem(whole, options.limits) ?? whole;
  };

  /** The histories kept beside a snapshot (a flat list of room, lines...), by room; or why they are not. */
  const historiesOf = (flat: unknown): Map<string, readonly HistoryEvent[]> | string => {
    const lines = new Map<string, readonly HistoryEvent[]>();
    if (flat === undefined) return lines;
    if (!Array.isArray(flat)) return 'its histories are not a list';
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const room = textOf(flat[i]);
      const history = parsed(textOf(flat[i + 1]) ?? '');
      const data = { users: [], rooms: [{ room, topic: null, history }] };
      if (room === undefined || !isStateData(data)) return `the history of ${JSON.stringify(room ?? null).slice(0, 40)} is not one`;
      lines.set(room, data.rooms[0]?.history ?? []);
    }
    return lines;
  };

  const reload = async (): Promise<ModerationLoaded | undefined> => {
    try {
      return await options.reload();
    } catch (err) {
      log(`bus: kept this node's moderation, could not reload it: ${redisProblem(err)}`);
      return undefined;
    }
  };

  const recover = async () => {
    // One at a time: a 'ready' that comes while a recovery awaits (a close and a quick
    // reconnect) would otherwise restore the state twice and publish two rosters. It is kept
    // for after, in case this one fails on the connection that closed.
    if (closed || up) return;
    if (recovering) {
      readyAgain = true;
      return;
    }
    recovering = true;
    try {
      await heartbeat();
      await commands.del(keys.reaped(nodeId)); // reaped while away: a later death must be reaped again
      await reapAgain();
      const snapshot = await loadSnapshot();
      const replaying = await replayFrom(snapshot.id);
      // Read after the snapshot: the store then holds the changes whose events are before it (each
      // saved as its maker applied it, bar one still on its way), and those after are read again.
      const loaded = await reload();
      // The reload may wait for the store's own connection; lost again meanwhile, the next 'ready' recovers.
      if (closed || commands.status !== 'ready') return;
      generation += 1;
      lastId = snapshot.id;
      savedId = snapshot.id;
      if (!snapshot.historiesApart) historySaved = -1; // nothing beside it to keep: the next snapshot writes every room's
      replayUntil = replaying;
      up = true;
      events.next({ type: 'restored', node: nodeId, state: snapshot.state, rejoined: everUp, at: Date.now() });
      if (replaying !== undefined) events.next({ type: 'replaying', node: nodeId, at: Date.now() });
      if (loaded !== undefined) events.next(loaded);
      if (everUp) log('bus: Redis is back');
      everUp = true;
      await reap().catch((err: unknown) => log(`bus: could not look for lost nodes: ${redisProblem(err)}`)); // now, not at the next tick: a ready node knows its cluster
      joined();
    } catch (err) {
      log(`bus: could not rejoin the cluster yet: ${redisProblem(err)}`);
      // No other 'ready' may come (Redis answered the connection, not the commands): try again.
      if (!closed && commands.status === 'ready') retry = setTimeout(() => void recover(), RECOVER_RETRY_MS);
    } finally {
      recovering = false;
      if (readyAgain) {
        readyAgain = false;
        void recover();
      }
    }
  };

  const goDown = () => {
    if (!up) return;
    up = false;
    generation += 1;
    nodesAlive = 1;
    shownUpTo = later(shownUpTo, lastId);
    replayUntil = undefined;
    const queued = pending;
    pending = []; // the write queued for them finds nothing
    log('bus: Redis is out of reach; serving this node alone');
    events.next({ type: 'bus-down', node: nodeId, at: Date.now() });
    unwritten(queued); // after the notice: from it on, the chat shows what happens here alone
  };

  const heartbeat = async () => {
    await commands.set(keys.node(nodeId), '1', 'PX', NODE_TTL_MS);
    await commands.sadd(keys.nodes, nodeId);
  };

  const reapAgain = async () => {
    for (const node of unreaped) {
      await commands.del(keys.reaped(node));
      await commands.sadd(keys.nodes, node);
      unreaped.delete(node);
    }
  };

  const reap = async () => {
    let alive = 1; // this node
    for (const node of await commands.smembers(keys.nodes)) {
      if (node === nodeId) continue;
      if ((await commands.exists(keys.node(node))) === 1) {
        alive += 1;
        continue;
      }
      const claimed = await commands.set(keys.reaped(node), '1', 'EX', REAPED_TTL_SECONDS, 'NX');
      await commands.srem(keys.nodes, node);
      if (claimed === 'OK') publish({ type: 'node-lost', node, at: Date.now() });
    }
    if (up) nodesAlive = alive;
  };

  // One node at a time writes snapshots (the lease's holder), and only the histories that changed
  // since its last one, in parts: neither the chat nor Redis waits for a whole snapshot.
  const saveSnapshot = async () => {
    if (lastId === savedId || readers === 0 || saving) return;
    saving = true;
    try {
      if ((await commands.eval(TAKE_LEASE, 1, keys.lease, nodeId, SNAPSHOT_LEASE_MS)) !== 1) return;
      const [id, from] = [lastId, generation];
      const outline = JSON.stringify(options.snapshot.outline());
      const changes = options.snapshot.historyChanges(historySaved);
      await writeHistories(id, changes.changed);
      if (from !== generation || !up) return; // the state was restored meanwhile: what was taken is void
      const [kept, changed] = [JSON.stringify(changes.kept), JSON.stringify([...changes.changed.keys()])];
      const written = await commands.eval(SAVE_SNAPSHOT, 3, keys.snapshot, keys.stream, keys.lease, id, outline, nodeId, keys.histories, kept, changed);
      if (written === -1 || written === -2) return; // the lease went to another node (it writes them now), or a part expired
      savedId = id;
      historySaved = changes.version; // a newer snapshot another node wrote holds these changes too
    } finally {
      saving = false;
    }
  };

  /** Each room's lines in a key of its own, SNAPSHOT_PART_CHARS at a time, each part answered before the next is made. */
  const writeHistories = async (id: string, changed: ReadonlyMap<string, readonly HistoryEvent[]>) => {
    let part: Promise<unknown>[] = [];
    let chars = 0;
    for (const [room, lines] of changed) {
      const json = JSON.stringify(lines);
      part.push(commands.set(keys.history(room, id), json, 'PX', SNAPSHOT_PART_TTL_MS));
      chars += json.length;
      if (chars < SNAPSHOT_PART_CHARS) continue;
      await Promise.all(part);
      [part, chars] = [[], 0];
    }
    await Promise.all(part);
  };

  // Redis failing a command while connected (refusing it, or not answering) is left and rejoined:
  // the rejoin's roster makes the cluster whole again.
  const rejoin = () => {
    if (up && commands.status === 'ready') commands.disconnect(true);
  };

  /** Runs `task` every `ms` while the bus is up; a failure is logged as what could not be done. */
  const every = (ms: number, task: () => Promise<unknown>, what: string) =>
    setInterval(() => {
      if (up) task().catch((err: unknown) => log(`bus: could not ${what}: ${redisProblem(err)}`));
    }, ms);

  // A heartbeat unanswered says Redis is out of reach even when nobody types.
  const beat = () => heartbeat().catch((err: unknown) => {
    rejoin();
    throw err;
  });

  let pending: ChatEvent[] = []; // published this turn, written as one entry at its end
  const unreaped = new Set<string>(); // dead nodes whose loss was not written: reaped again on rejoining
  let writes = 0;
  let writesRead = 0; // the last of this node's writes read back from the stream
  // This node's writes that failed but that Redis may have carried out (it did not answer in time).
  const unsure = new Set<number>();
  const writeTag = (write: number) => `${nodeId}/${write}`;

  // False when the entry of `tag` is a write this node took as failed; this node's later writes,
  // read, settle the earlier ones.
  const settleWrite = (tag: string | undefined): boolean => {
    const [node, count] = (tag ?? '').split('/');
    if (node !== nodeId) return true;
    const write = Number(count);
    writesRead = Math.max(writesRead, write);
    for (const earlier of unsure) if (earlier < write) unsure.delete(earlier);
    return !unsure.delete(write);
  };

  // Users' events Redis did not take still happen here, as during an outage, rather than being
  // lost (a departure lost would leave a ghost); a roster or a node's loss speaks to the others
  // alone.
  const unwritten = (entry: readonly ChatEvent[]) => {
    if (replayUntil !== undefined) catchUp(); // they are new: shown, whatever the replay has left
    for (const event of entry) {
      if (event.type === 'node-lost' && event.node !== nodeId) unreaped.add(event.node);
      else if (event.type !== 'roster' && event.type !== 'node-lost') events.next(event);
    }
    rejoin();
  };

  const write = () => {
    const batch = pending;
    pending = [];
    for (const { events: entry, json } of entriesOf(batch)) {
      const write = ++writes;
      lastWrite = commands.xadd(keys.stream, '*', 'e', json, 'w', writeTag(write)).catch((err: unknown) => {
        if (write <= writesRead) {
          rejoin(); // Redis carried it out, and it was read back: only its answer was lost
          return;
        }
        log(`bus: could not write ${entry.length} events (${entry[0]?.type} first), so they reach this node alone: ${redisProblem(err)}`);
        unsure.add(write);
        unwritten(entry);
      });
    }
  };

  const publish = (event: ChatEvent) => {
    if (!up) {
      events.next(event);
      return;
    }
    if (pending.length === 0) setImmediate(write);
    pending.push(event);
  };

  commands.on('ready', () => void recover());
  commands.on('close', goDown);
  const timers = [
    every(HEARTBEAT_MS, beat, 'send the heartbeat'), every(REAP_EVERY_MS, reap, 'look for lost nodes'), every(SNAPSHOT_EVERY_MS, saveSnapshot, 'save a snapshot'),
  ];
  void read();

  const leave = () => {
    if (up) publish({ type: 'node-lost', node: nodeId, at: Date.now() });
  };

  const close = async () => {
    joined();
    timers.forEach(clearInterval);
    clearTimeout(retry);
    write();
    await lastWrite;
    // The lease let go: another node writes the snapshots from its next turn, not once it expires.
    if (up) await Promise.allSettled([commands.del(keys.node(nodeId)), commands.srem(keys.nodes, nodeId), commands.eval(RELEASE_LEASE, 1, keys.lease, nodeId)]);
    closed = true;
    up = false;
    reader.disconnect();
    if (commands.status === 'ready') await commands.quit().catch(() => commands.disconnect());
    else commands.disconnect(); // a quit would fail at once: Redis is out of reach
  };

  return { publish, events$, node: nodeId, ready, health: () => ({ busUp: up, nodes: nodesAlive }), leave, close };
}
