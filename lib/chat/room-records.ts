import type { HistoryEvent, StateData } from './events';

/** Default for the chat and `/me` lines a room keeps for those who join it. */
export const HISTORY_LINES = 20;
/**
 * Rooms that may exist at once. A topic keeps an empty room, so past this the oldest empty room
 * goes to make space: nobody can use up the rooms by setting topics.
 */
export const MAX_ROOMS = 1000;
/** The most a room may be set to keep: each line is held in memory, in every room. */
export const MAX_HISTORY_LINES = 1000;
/**
 * Default for the bytes of history all rooms keep together (each line's text and its sender's
 * name, in UTF-8): without it a thousand rooms of long lines held hundreds of megabytes on every
 * node, and in every snapshot.
 */
export const HISTORY_BYTES = 16 * 1024 * 1024;

/** What a line costs against the history's bytes: its text and its sender's name, in UTF-8. */
export const historyLineBytes = (line: HistoryEvent): number => utf8Bytes(line.text) + utf8Bytes(line.nick);

/** The length of `text` in UTF-8, in bytes, counted without encoding it. */
export function utf8Bytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit < 0xdc00 && i + 1 < text.length) {
      bytes += 4; // a surrogate pair is one code point of four bytes
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

interface RoomRecord {
  count: number;
  topic: string | undefined;
  readonly history: HistoryEvent[];
  /** The history's bytes, as historyLineBytes counts them. */
  historyBytes: number;
  /** The rooms' history version when this room's history last changed; 0: as it was restored. */
  historyVersion: number;
}

/** The rooms whose history changed since a version, for a snapshot that writes only those. */
export interface HistoryChanges {
  /** The version to ask from next time. */
  readonly version: number;
  /** Each room whose history changed, with its lines now (a copy), oldest first. */
  readonly changed: ReadonlyMap<string, readonly HistoryEvent[]>;
  /** Every room that has a history now: any other's history is gone. */
  readonly kept: readonly string[];
}

/** A room as `/rooms` lists it. */
export interface RoomSummary {
  readonly room: string;
  readonly count: number;
  readonly topic: string | undefined;
}

/**
 * The chat's rooms: how many are in each, its topic, its history under the bounds (lines per room,
 * bytes in all), and which room was spoken in least recently. The chat's state holds one and says
 * who enters and leaves; every lookup returns a copy.
 */
export class Rooms {
  private readonly records = new Map<string, RoomRecord>();
  // The rooms with a history, least recently spoken in first: the first to lose lines when the
  // history's bytes are full.
  private readonly byUse = new Map<string, RoomRecord>();
  private historyBytes = 0;
  private historyVersion = 0;

  /** `historyLines` bounds each room's history, `historyBytesBound` all of them together. */
  constructor(
    private readonly historyLines: number,
    private readonly historyBytesBound: number,
  ) {}

  /** Every room as plain data, history and all, with its rank in the use order when it has a history. */
  toJSON(): StateData['rooms'] {
    const used = this.useRanks();
    return [...this.records].map(([room, record]) =>
      ({ room, topic: record.topic ?? null, history: [...record.history], ...this.rankOf(used, room) }));
  }

  /** The rooms whose history changed after `since` (a `version` this gave before; 0 for all but those restored). */
  historyChanges(since: number): HistoryChanges {
    const changed = new Map<string, readonly HistoryEvent[]>();
    for (const [room, record] of this.byUse) if (record.historyVersion > since) changed.set(room, [...record.history]);
    return { version: this.historyVersion, changed, kept: [...this.byUse.keys()] };
  }

  /** The bytes of history all rooms keep now. */
  get historySize(): number {
    return this.historyBytes;
  }

  private useRanks(): Map<string, number> {
    return new Map([...this.byUse.keys()].map((room, rank) => [room, rank + 1]));
  }

  private rankOf(used: ReadonlyMap<string, number>, room: string): { used?: number } {
    const rank = used.get(room);
    return rank === undefined ? {} : { used: rank };
  }

  /** How many are in `room`; 0 when it does not exist. */
  headcount(room: string): number {
    return this.records.get(room)?.count ?? 0;
  }

  /** Every room, with how many are in it and its topic. */
  list(): RoomSummary[] {
    return [...this.records].map(([room, { count, topic }]) => ({ room, count, topic }));
  }

  /** The room's topic; undefined when it has none or does not exist. */
  topic(room: string): string | undefined {
    return this.records.get(room)?.topic;
  }

  /** The room's last lines, oldest first. */
  history(room: string): HistoryEvent[] {
    return [...(this.records.get(room)?.history ?? [])];
  }

  /** Sets the room's topic (an empty one clears it); false when the room does not exist. */
  setTopic(room: string, topic: string): boolean {
    const record = this.records.get(room);
    if (record !== undefined) record.topic = topic === '' ? undefined : topic; // cleared: an empty room may go again
    return record !== undefined;
  }

  /** Keeps `line` in its room's history, if the room exists and keeps any. */
  record(line: HistoryEvent): void {
    const room = this.records.get(line.room);
    if (room === undefined || this.historyLines === 0) return;
    this.remember(line.room, room, line);
  }

  /** Keeps `line` in `room`, the room now the most recently used; then the bounds: lines per room, bytes in all. */
  private remember(name: string, room: RoomRecord, line: HistoryEvent): void {
    room.history.push(line);
    this.changedHistory(room, historyLineBytes(line));
    this.byUse.delete(name);
    this.byUse.set(name, room);
    if (room.history.length > this.historyLines) this.forgetOldest(name, room);
    for (const [oldest, record] of this.byUse) {
      if (this.historyBytes <= this.historyBytesBound) break;
      while (record.history.length > 0 && this.historyBytes > this.historyBytesBound) this.forgetOldest(oldest, record);
    }
  }

  private forgetOldest(name: string, room: RoomRecord): void {
    const line = room.history.shift();
    if (line !== undefined) this.changedHistory(room, -historyLineBytes(line));
    if (room.history.length === 0) this.byUse.delete(name);
  }

  private changedHistory(room: RoomRecord, bytes: number): void {
    room.historyBytes += bytes;
    this.historyBytes += bytes;
    room.historyVersion = ++this.historyVersion;
  }

  /** The room is gone, its history with it. */
  private dropRoom(name: string): void {
    const record = this.records.get(name);
    if (record === undefined) return;
    this.records.delete(name);
    this.byUse.delete(name);
    this.historyBytes -= record.historyBytes;
  }

  /** Becomes the rooms `rooms` describes, topics and history: the cluster's, as a snapshot holds them; nobody in any yet. */
  restore(rooms: StateData['rooms']): void {
    this.records.clear();
    this.byUse.clear();
    this.historyBytes = 0;
    for (const { room, topic } of rooms) this.records.set(room, { ...emptyRoom(), topic: topic ?? undefined });
    this.restoreHistories(rooms);
  }

  /**
   * Each room's lines, replayed least recently used room first and line by line under these
   * rooms' own bounds (a snapshot from a node with larger ones keeps what these allow), each room
   * as restored (version 0): as the snapshot holds it.
   */
  private restoreHistories(rooms: StateData['rooms']): void {
    const byRank = rooms.map((room, index) => ({ room, rank: room.used ?? 0, index }));
    byRank.sort((a, b) => a.rank - b.rank || a.index - b.index);
    for (const { room } of byRank) {
      const record = this.records.get(room.room);
      if (record === undefined || this.historyLines === 0) continue;
      for (const line of room.history) this.remember(room.room, record, line);
    }
    for (const record of this.records.values()) record.historyVersion = 0;
  }

  /** One more is in `room`, made now if it did not exist. */
  enter(room: string): void {
    const record = this.records.get(room);
    if (record !== undefined) {
      record.count += 1;
      return;
    }
    this.records.set(room, { ...emptyRoom(), count: 1 });
    if (this.records.size <= MAX_ROOMS) return;
    const oldestEmpty = [...this.records].find(([, { count }]) => count === 0);
    if (oldestEmpty !== undefined) this.dropRoom(oldestEmpty[0]);
  }

  /**
   * A room with nobody in it and no topic is gone, its history with it; but for a room emptied by
   * a node that went, whose users may be back (every node restarted, say) and find what was said.
   */
  exit(room: string, nodeGone = false): void {
    const record = this.records.get(room);
    if (record === undefined) return;
    record.count -= 1;
    const keep = record.topic !== undefined || (nodeGone && record.history.length > 0);
    if (record.count === 0 && !keep) this.dropRoom(room);
  }
}

const emptyRoom = (): RoomRecord => ({ count: 0, topic: undefined, history: [], historyBytes: 0, historyVersion: 0 });
