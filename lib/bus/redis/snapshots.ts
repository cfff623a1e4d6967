import type { HistoryEvent, StateData } from '../../chat/events';
import { isStateData } from '../../chat/event-shapes';
import { stateProblem } from '../../chat/wire';
import type { Link } from './link';
import { LOAD_SNAPSHOT, SAVE_SNAPSHOT, TAKE_LEASE } from './scripts';
import { isBefore, STREAM_ID, STREAM_START } from './stream-id';

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

/** A snapshot as read, whole or skipped. */
export interface LoadedSnapshot {
  readonly id: string;
  readonly state: StateData;
  /** False when its rooms' histories are not (all) beside it in Redis: the next snapshot writes every one. */
  readonly historiesApart: boolean;
}

const NO_SNAPSHOT: LoadedSnapshot = { id: STREAM_START, state: { users: [], rooms: [] }, historiesApart: false };

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
 * The cluster's snapshots: read whole at a recovery; written by one node at a time (the lease's
 * holder), with only the histories that changed since its last one, in parts: neither the chat
 * nor Redis waits for a whole snapshot.
 */
export class Snapshots {
  private savedId = STREAM_START;
  private historySaved = 0; // the state's history version the last snapshot written here holds
  private saving = false;

  constructor(private readonly link: Link) {}

  // A snapshot that is not one chatd writes (garbage, forged, of a newer node) is skipped, once, with
  // one line: the node reads the stream from its start (what is left of it) rather than loop on it.
  async load(): Promise<LoadedSnapshot> {
    const { commands, keys } = this.link;
    const reply: unknown = await commands.eval(LOAD_SNAPSHOT, 2, keys.snapshot, keys.stream, keys.histories);
    const [id, text, apart, histories, last] = Array.isArray(reply) ? reply : [];
    const found = textOf(id);
    if (found === undefined && textOf(text) === undefined) return NO_SNAPSHOT;
    const lastId = Array.isArray(last) ? textOf(last[0]) : undefined;
    const state = textOf(apart) === 'garbage'
      ? 'the histories it names are not a list'
      : this.stateOf(found, textOf(text), textOf(apart) === 'apart' ? histories : undefined, lastId);
    if (found === undefined || typeof state === 'string') {
      this.link.log(`bus: skipped the snapshot at ${JSON.stringify(found ?? null).slice(0, 60)}, ${typeof state === 'string' ? state : 'it has no id'}; reading the stream from its start`);
      return NO_SNAPSHOT;
    }
    return { id: found, state, historiesApart: textOf(apart) === 'apart' };
  }

  /** The state is restored from `snapshot`: it is the last one saved, and holds what it holds. */
  restoredFrom(snapshot: LoadedSnapshot): void {
    this.savedId = snapshot.id;
    if (!snapshot.historiesApart) this.historySaved = -1; // nothing beside it to keep: the next snapshot writes every room's
  }

  /** Writes a snapshot if events came since the last one and this node holds (or takes) the lease. */
  async save(): Promise<void> {
    const { link } = this;
    if (link.lastId === this.savedId || !link.reading || this.saving) return;
    this.saving = true;
    try {
      const { commands, keys } = link;
      if ((await commands.eval(TAKE_LEASE, 1, keys.lease, link.node, SNAPSHOT_LEASE_MS)) !== 1) return;
      const [id, from] = [link.lastId, link.generation];
      const answer = link.ask({ type: 'snapshot', since: this.historySaved }); // the state as of entry `id`
      if (answer?.type !== 'snapshot') return;
      const { changes } = answer;
      const outline = JSON.stringify(answer.outline);
      await this.writeHistories(id, changes.changed);
      if (!link.holds(from)) return; // the state was restored meanwhile: what was taken is void
      const [kept, changed] = [JSON.stringify(changes.kept), JSON.stringify([...changes.changed.keys()])];
      const written = await commands.eval(SAVE_SNAPSHOT, 3, keys.snapshot, keys.stream, keys.lease, id, outline, link.node, keys.histories, kept, changed);
      if (written === -1 || written === -2) return; // the lease went to another node (it writes them now), or a part expired
      this.savedId = id;
      this.historySaved = changes.version; // a newer snapshot another node wrote holds these changes too
    } finally {
      this.saving = false;
    }
  }

  /** Each room's lines in a key of its own, SNAPSHOT_PART_CHARS at a time, each part answered before the next is made. */
  private async writeHistories(id: string, changed: ReadonlyMap<string, readonly HistoryEvent[]>): Promise<void> {
    let part: Promise<unknown>[] = [];
    let chars = 0;
    for (const [room, lines] of changed) {
      const json = JSON.stringify(lines);
      part.push(this.link.commands.set(this.link.keys.history(room, id), json, 'PX', SNAPSHOT_PART_TTL_MS));
      chars += json.length;
      if (chars < SNAPSHOT_PART_CHARS) continue;
      await Promise.all(part);
      [part, chars] = [[], 0];
    }
    await Promise.all(part);
  }

  /** The state a snapshot holds, its histories put back in; or why it is not one. */
  private stateOf(id: string | undefined, text: string | undefined, histories: unknown, lastId: string | undefined): StateData | string {
    if (id === undefined || !STREAM_ID.test(id)) return 'its id is not a stream id';
    if (lastId === undefined || isBefore(lastId, id)) return 'its id is past the end of the stream';
    const state = parsed(text ?? '');
    if (!isStateData(state)) return 'not a state this node knows';
    const lines = historiesOf(histories);
    if (typeof lines === 'string') return lines;
    const rooms = state.rooms.map((room) => ({ ...room, history: lines.get(room.room) ?? room.history }));
    const whole = { users: state.users, rooms };
    return stateProblem(whole, this.link.options.limits) ?? whole;
  }
}

/** The histories kept beside a snapshot (a flat list of room, lines...), by room; or why they are not. */
function historiesOf(flat: unknown): Map<string, readonly HistoryEvent[]> | string {
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
}
