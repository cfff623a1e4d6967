import type { Ban } from '../chat/events';
import type { ModerationData } from '../chat/moderation';

/**
 * What chatd keeps across restarts, and the small interface a place to keep it implements
 * (a file now; Redis, shared by every node, later). Registration records live here, never in
 * the chat's state or its events: events travel on the bus, and a hash has no business there.
 */

/** A registered name's password, as an scrypt hash with its own salt. */
export interface AccountRecord {
  /** The name as it was registered. */
  readonly name: string;
  /** Base64 of the salt, made for this record alone. */
  readonly salt: string;
  /** Base64 of scrypt(password, salt). */
  readonly hash: string;
  /** scrypt's cost (N) when the hash was made, so a dearer cost later still checks older hashes. */
  readonly cost: number;
}

/** Everything kept: registered names by their name key (lookalikes share one), and moderation's. */
export interface StoreData extends ModerationData {
  readonly accounts: Readonly<Record<string, AccountRecord>>;
}

export const EMPTY_DATA: StoreData = { accounts: {}, ops: [], bans: [], motd: '' };

/** Where the data is kept. `save` replaces the whole of it, so what `load` finds is one save's. */
export interface Store {
  /** What was saved last; EMPTY_DATA when nothing ever was. Rejects with StoreError. */
  load(): Promise<StoreData>;
  /** Replaces what is kept, all at once; rejects with StoreError, what was kept left as it was. */
  save(data: StoreData): Promise<void>;
}

export type StoreErrorCode = 'CHAT_STORE_CORRUPT' | 'CHAT_STORE_UNWRITABLE';

/** The data cannot be read as chatd's, or cannot be written; the message names the place. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function accountRecord(value: unknown): AccountRecord | undefined {
  if (!isRecord(value)) return undefined;
  const { name, salt, hash, cost } = value;
  if (typeof name !== 'string' || typeof salt !== 'string' || typeof hash !== 'string' || typeof cost !== 'number') return undefined;
  return { name, salt, hash, cost };
}

function ban(value: unknown): Ban | undefined {
  if (!isRecord(value)) return undefined;
  const { name, address, until, by, reason } = value;
  if (typeof name !== 'string' || typeof address !== 'string' || typeof by !== 'string' || typeof reason !== 'string') return undefined;
  return until === null || typeof until === 'number' ? { name, address, until, by, reason } : undefined;
}

/** Moderation's part, each field absent in a file saved before there was moderation. */
function moderationData(json: Record<string, unknown>): ModerationData | string {
  const { ops = [], bans = [], motd = '' } = json;
  if (!Array.isArray(ops) || !ops.every((name) => typeof name === 'string')) return '"ops" is not a list of names';
  if (!Array.isArray(bans)) return '"bans" is not a list';
  const read = bans.map(ban);
  if (read.some((each) => each === undefined)) return 'a ban is not a name, address, until, by and reason';
  if (typeof motd !== 'string') return '"motd" is not text';
  return { ops, bans: read.flatMap((each) => each ?? []), motd };
}

/** Reads parsed JSON as StoreData; the problem, as text, when it is not. */
export function readData(json: unknown): StoreData | string {
  if (!isRecord(json) || !isRecord(json['accounts'])) return 'no "accounts" object';
  const accounts: Record<string, AccountRecord> = {};
  for (const [key, value] of Object.entries(json['accounts'])) {
    const record = accountRecord(value);
    if (record === undefined) return `account ${JSON.stringify(key)} is not a name, salt, hash and cost`;
    accounts[key] = record;
  }
  const moderation = moderationData(json);
  return typeof moderation === 'string' ? moderation : { accounts, ...moderation };
}

/**
 * The data as last saved, and the one way to change it: `update` applies a change to what the
 * update before it saved, once that one is done, so the registry and moderation never save over
 * each other's part with what they read earlier.
 */
export interface DataKeeper {
  readonly data: StoreData;
  /** Saves `change(data)`; rejects with StoreError, the data left as it was. */
  update(change: (data: StoreData) => StoreData): Promise<void>;
  /** Resolves once every update asked for so far is saved or has failed. */
  settled(): Promise<void>;
}

/** Keeps `store`'s data, starting from `loaded` (what it loaded). */
export function dataKeeper(store: Store, loaded: StoreData): DataKeeper {
  let data = loaded;
  let updating: Promise<void> = Promise.resolve();
  const update = (change: (current: StoreData) => StoreData): Promise<void> => {
    const updated = updating.then(async () => {
      const next = change(data);
      await store.save(next);
      data = next;
    });
    updating = updated.catch(() => {}); // one failed save must not fail the ones after it
    return updated;
  };
  return {
    get data() {
      return data;
    },
    update,
    settled: () => updating,
  };
}

/** A store in memory, for a server whose registrations may end with it. */
export function memoryStore(): Store {
  let kept: string = JSON.stringify(EMPTY_DATA);
  return {
    load: async () => {
      const data = readData(JSON.parse(kept));
      return typeof data === 'string' ? EMPTY_DATA : data;
    },
    save: async (data) => {
      kept = JSON.stringify(data);
    },
  };
}
