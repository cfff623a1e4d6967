import { type ChatEvent, type HistoryEvent, nodeOf, type RosterUser, type StateData, type UserId } from './events';
import { Moderation, type ModerationView } from './moderation';
import { nameKey } from './names';

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

/** A logged-in user as the state holds it. */
interface UserRecord {
  id: UserId; // a new connection that takes the user over gives them its id
  nick: string;
  key: string;
  room: string;
  connectedAt: number;
  activeAt: number;
  from: string; // the peer's address; '' when not known
  // Made at the user's first /away, /ignore, private message received or password given: one
  // record lives for every user, and most idle ones have none of it.
  extras: UserExtras | undefined;
}

/** What a user has only once they used it. */
interface UserExtras {
  away: string | undefined;
  ignores: Set<UserId> | undefined; // made at the first /ignore: most users never ignore anyone
  lastWhisperer: UserId | undefined;
  identified: string | undefined; // the key of the registered name whose password they gave
  account: string | undefined; // the id of that name's account, which an /op grant names
  loginKey: string | undefined; // the fingerprint of the key that stood for that password (SSH), for /whois to its owner and operators
  kicked: boolean; // kicked or banned, their connection closing: nothing more they type counts
  // The mute that follows this user through /nick while they are online: the name it was given
  // to (and its key), and when it ends. The name itself stays muted in Moderation for anyone who takes it.
  mute: FollowedMute | undefined;
}

interface FollowedMute {
  readonly name: string;
  readonly key: string;
  readonly until: number;
}

const extrasOf = (user: UserRecord): UserExtras =>
  (user.extras ??= { away: undefined, ignores: undefined, lastWhisperer: undefined, identified: undefined, account: undefined, loginKey: undefined, kicked: false, mute: undefined });

/** What a lookup returns: a copy, taken now, of what the state knows of a user. */
export interface User {
  readonly id: UserId;
  readonly nick: string;
  readonly room: string;
  readonly away: string | undefined;
  readonly connectedAt: number;
  readonly activeAt: number;
  readonly lastWhisperer: UserId | undefined;
  /** The peer's address; '' when not known. */
  readonly from: string;
}

interface RoomRecord {
  count: number;
  topic: string | undefined;
  readonly history: HistoryEvent[];
  /** The history's bytes, as historyLineBytes counts them. */
  historyBytes: number;
  /** The state's history version when this room's history last changed; 0: as it was restored. */
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

const snapshot = ({ id, nick, room, connectedAt, activeAt, from, extras }: UserRecord): User =>
  ({ id, nick, room, away: extras?.away, connectedAt, activeAt, lastWhisperer: extras?.lastWhisperer, from });

/**
 * The chat's state: who is online, in which room, away, whom they ignore; each room's topic and
 * history. `apply` is the one place it changes; it mutates and returns this state (copying a map
 * of 10,000 users per event would be quadratic), so every lookup returns a copy. An event that
 * cannot apply (a name another user took first, a user who is gone) changes nothing, so every
 * node that applies the same events in the same order holds the same state.
 */
export class ChatState {
  private readonly users = new Map<UserId, UserRecord>(); // in login order
  private readonly keys = new Map<string, UserId>(); // name key -> its holder
  private readonly roomRecords = new Map<string, RoomRecord>();
  private readonly ignorers = new Set<UserId>(); // users who ignore anyone, so a departure forgets it fast
  private apart = false;
  private rejoiningNode = false;
  private toldApart = false; // this node's users were told the others are out of reach, not yet that they are back
  private readonly sanctions = new Moderation();
  // The rooms with a history, least recently spoken in first: the first to lose lines when the
  // history's bytes are full.
  private readonly byUse = new Map<string, RoomRecord>();
  private historyBytes = 0;
  private historyVersion = 0;

  /**
   * `startedAt`: when this node's chat began, in ms, as its clock reads; `/uptime` counts from it.
   * `historyLines` bounds each room's history, `historyBytes` all of them together.
   */
  constructor(
    private readonly historyLines = HISTORY_LINES,
    readonly startedAt = 0,
    private readonly historyBytesBound = HISTORY_BYTES,
  ) {}

  /**
   * Applies one event; true when it changed the state. One that did not (a name another user
   * took first, a user who is gone, a departure already seen) shows nothing to anyone.
   */
  apply(event: ChatEvent): boolean {
    return this.change(event);
  }

  /** How many users are logged in. */
  get online(): number {
    return this.users.size;
  }

  /**
   * True from the bus's word that the other nodes are out of reach (`keepNode`) until it hands
   * back the cluster's state (`restore`): a change made now reaches no other node, and the
   * cluster's data, which is kept where its bus runs (Redis), cannot be saved.
   */
  get cutOff(): boolean {
    return this.apart;
  }

  /** The whole state as plain data, which a cluster's bus restores (`restored`). */
  toJSON(): StateData {
    const users = [...this.users.values()].map((user) => ({
      ...snapshot(user),
      away: user.extras?.away ?? null,
      lastWhisperer: user.extras?.lastWhisperer ?? null,
      ignores: [...(user.extras?.ignores ?? [])],
      identified: user.extras?.identified ?? null,
      account: user.extras?.account ?? null,
    }));
    const used = this.useRanks();
    const rooms = [...this.roomRecords].map(([room, record]) =>
      ({ room, topic: record.topic ?? null, history: [...record.history], ...this.rankOf(used, room) }));
    return { users, rooms };
  }

  /** The state as `toJSON` gives it, but with every room's history left out: a snapshot keeps those apart. */
  outline(): StateData {
    const { users, rooms } = this.toJSON();
    return { users, rooms: rooms.map((room) => ({ ...room, history: [] })) };
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

  private change(event: ChatEvent): boolean {
    switch (event.type) {
      case 'joined': return this.join(event.user, event.nick, event.room, event.at, event.from ?? '');
      case 'returned': return this.comeBack(event);
      case 'resumed': return this.resume(event);
      case 'left': return this.leave(event.user, event.nodeGone === true);
      case 'said': case 'acted': return this.record(event);
      case 'renamed': return this.rename(event.user, event.nick, event.at);
      case 'moved': return this.move(event.user, event.room, event.at);
      case 'whispered': return this.whisper(event.user, event.to, event.at);
      case 'away': return this.update(event.user, (user) => { extrasOf(user).away = event.reason; });
      case 'back': return this.update(event.user, (user) => { if (user.extras !== undefined) user.extras.away = undefined; });
      case 'ignored': return this.ignore(event.user, event.target);
      case 'unignored': return this.update(event.user, (user) => { user.extras?.ignores?.delete(event.target); });
      case 'topic': return this.setTopic(event.room, event.topic);
      case 'node-lost': case 'roster': return false; // the chat applies them as the user events they stand for
      case 'identified': return this.update(event.user, (user) => { this.identify(user, nameKey(event.nick), event.account); extrasOf(user).loginKey = event.key; });
      // The user leaves when their connection, which the kick closes, ends; until then (the
      // close waits for their peer, up to the grace) nothing they type counts.
      case 'kicked': return this.update(event.target, (user) => { extrasOf(user).kicked = true; });
      case 'banned': // a banned user online is on their way out, as a kicked one is
        this.update(this.keys.get(nameKey(event.ban.name)) ?? '', (user) => { extrasOf(user).kicked = true; });
        this.sanctions.apply(event);
        return true;
      case 'muted': // the name, for its term; and its holder, through whatever names they take while online
        this.sanctions.apply(event);
        this.update(this.keys.get(nameKey(event.name)) ?? '', (user) => { extrasOf(user).mute = { name: event.name, key: nameKey(event.name), until: event.until }; });
        return true;
      case 'unmuted':
        this.unmute(event);
        return true;
      default:
        this.sanctions.apply(event);
        return true; // bans, mutes and the rest hold for names, online or not
    }
  }

  /** Operators' names, bans, mutes and the message of the day. */
  get moderation(): ModerationView {
    return this.sanctions;
  }

  /** True when the user logged in with the password of their name, and it is an operator's: by
   * configuration, or by an `/op` given to the account whose password they gave. */
  isOperator(id: UserId): boolean {
    const user = this.users.get(id);
    return user !== undefined && this.isIdentified(id) && this.sanctions.isOpAccount(user.nick, user.extras?.account);
  }

  /** The id of the account whose password the user gave for the name they hold now, if they did. */
  accountOf(id: UserId): string | undefined {
    return this.isIdentified(id) ? this.users.get(id)?.extras?.account : undefined;
  }

  /** True when the user would be an operator holding `nick`: they gave its password, and it is an operator's. */
  isOperatorAs(id: UserId, nick: string): boolean {
    const extras = this.users.get(id)?.extras;
    return extras?.identified === nameKey(nick) && this.sanctions.isOpAccount(nick, extras.account);
  }

  /** True when the user was kicked or banned and their connection is closing. */
  isKicked(id: UserId): boolean {
    return this.users.get(id)?.extras?.kicked === true;
  }

  /**
   * True when `id` gave the password of the name `nick` is (by its key), still registered as
   * `account` when both are known: they may take the name back with `/nick`.
   */
  gavePassword(id: UserId, nick: string, account: string | undefined): boolean {
    const extras = this.users.get(id)?.extras;
    if (extras?.identified !== nameKey(nick)) return false;
    return extras.account === undefined || account === undefined || extras.account === account;
  }

  /** True when the user gave the password of the registered name they hold now. */
  isIdentified(id: UserId): boolean {
    const user = this.users.get(id);
    return user !== undefined && user.extras?.identified === user.key;
  }

  /** True when the user's lines reach only themselves at `now`: their name is muted, or a mute followed them to it. */
  isMuted(id: UserId, now: number): boolean {
    return this.muteEnd(id, now) !== undefined;
  }

  /** True when `name` is muted at `now`, or its holder is. */
  isNameMuted(name: string, now: number): boolean {
    return this.sanctions.mutedUntil(name, now) !== undefined || this.isMuted(this.keys.get(nameKey(name)) ?? '', now);
  }

  /** The user, or undefined when nobody with that id is logged in. */
  user(id: UserId): User | undefined {
    const user = this.users.get(id);
    return user === undefined ? undefined : snapshot(user);
  }

  /** The user whose name is the same as `name` (case and lookalikes aside), if any. */
  userNamed(name: string): User | undefined {
    const id = this.keys.get(nameKey(name));
    return id === undefined ? undefined : this.user(id);
  }

  /** The names logged in, in login order; in one room when `room` is given. */
  nicks(room?: string): string[] {
    return this.members(room).map((user) => user.nick);
  }

  /** The users logged in, in login order; in one room when `room` is given; the first `limit` of them. */
  members(room?: string, limit = Number.POSITIVE_INFINITY): User[] {
    const found: User[] = [];
    for (const user of this.users.values()) {
      if (found.length >= limit) break;
      if (room === undefined || user.room === room) found.push(snapshot(user));
    }
    return found;
  }

  /** How many are in `room`; 0 when it does not exist. */
  headcount(room: string): number {
    return this.roomRecords.get(room)?.count ?? 0;
  }

  /** Every room, with how many are in it and its topic. */
  rooms(): RoomSummary[] {
    return [...this.roomRecords].map(([room, { count, topic }]) => ({ room, count, topic }));
  }

  /** The room's topic; undefined when it has none or does not exist. */
  topic(room: string): string | undefined {
    return this.roomRecords.get(room)?.topic;
  }

  /** The room's last lines, oldest first. */
  history(room: string): HistoryEvent[] {
    return [...(this.roomRecords.get(room)?.history ?? [])];
  }

  /** The ids `viewer` ignores. */
  ignoredBy(viewer: UserId): UserId[] {
    return [...(this.users.get(viewer)?.extras?.ignores ?? [])];
  }

  /** True when `viewer` ignores `sender`. */
  ignores(viewer: UserId, sender: UserId): boolean {
    return this.users.get(viewer)?.extras?.ignores?.has(sender) === true;
  }

  /** The users in `room` who ignore `sender`: those a line of theirs is hidden from. */
  ignorersIn(room: string, sender: UserId): UserId[] {
    const found: UserId[] = [];
    for (const id of this.ignorers) {
      const viewer = this.users.get(id);
      if (viewer?.room === room && viewer.extras?.ignores?.has(sender) === true) found.push(id);
    }
    return found;
  }

  private join(id: UserId, nick: string, room: string, at: number, from: string): boolean {
    const key = nameKey(nick);
    if (this.users.has(id) || this.keys.has(key)) return false; // the name's first claim wins, on every node
    const record: UserRecord = { id, nick, key, room, connectedAt: at, activeAt: at, from, extras: undefined };
    this.users.set(id, record);
    this.keys.set(key, id);
    this.enter(room);
    return true;
  }

  /** A roster's user back as they logged in then (for whoever keeps a name), password given or not. */
  private comeBack(event: Extract<ChatEvent, { type: 'returned' }>): boolean {
    if (!this.join(event.user, event.nick, event.room, event.connectedAt, event.from)) return false;
    const { identified } = event;
    if (identified !== undefined) this.update(event.user, (user) => this.identify(user, identified, event.account));
    return true;
  }

  /**
   * A new connection takes over the user who holds `nick` on `replaced`: the same record (room,
   * away, ignores, password given) under the new id, at the new address; whoever ignored or last
   * whispered to them still does. Applies only while `replaced` holds that name.
   */
  private resume({ user, replaced, nick, at, from }: Extract<ChatEvent, { type: 'resumed' }>): boolean {
    const record = this.users.get(replaced);
    if (record === undefined || record.key !== nameKey(nick) || this.users.has(user)) return false;
    this.users.delete(replaced);
    Object.assign(record, { id: user, connectedAt: at, activeAt: at, from: from ?? record.from });
    if (record.extras !== undefined) record.extras.kicked = false; // the kick closed the old connection, not this one
    this.users.set(user, record);
    this.keys.set(record.key, user);
    if (this.ignorers.delete(replaced)) this.ignorers.add(user);
    for (const other of this.users.values()) {
      const extras = other.extras;
      if (extras?.lastWhisperer === replaced) extras.lastWhisperer = user;
      if (extras?.ignores?.delete(replaced) === true) extras.ignores.add(user);
    }
    return true;
  }

  private leave(id: UserId, nodeGone = false): boolean {
    const user = this.users.get(id);
    if (user === undefined) return false;
    this.users.delete(id);
    this.keys.delete(user.key);
    this.ignorers.delete(id);
    for (const ignorer of this.ignorers) this.users.get(ignorer)?.extras?.ignores?.delete(id);
    this.exit(user.room, nodeGone);
    return true;
  }

  private rename(id: UserId, nick: string, at: number): boolean {
    const user = this.users.get(id);
    const key = nameKey(nick);
    const holder = this.keys.get(key);
    if (user === undefined || (holder !== undefined && holder !== id)) return false;
    this.keys.delete(user.key);
    this.keys.set(key, id);
    const muted = this.muteOf(user, at);
    if (muted !== undefined) extrasOf(user).mute = muted; // the new name is muted while they hold it, not after
    user.nick = nick;
    user.key = key;
    user.activeAt = at;
    return true;
  }

  /** When the user's mute ends, or undefined when they are not muted at `now`. */
  private muteEnd(id: UserId, now: number): number | undefined {
    const user = this.users.get(id);
    return user === undefined ? undefined : this.muteOf(user, now)?.until;
  }

  /** The mute on the user at `now`: the one on their name, or the one that followed them, whichever ends later. */
  private muteOf(user: UserRecord, now: number): FollowedMute | undefined {
    const followed = user.extras?.mute;
    const nameUntil = this.sanctions.mutedUntil(user.nick, now);
    const onName = nameUntil === undefined ? undefined : { name: user.nick, key: user.key, until: nameUntil };
    const kept = followed !== undefined && followed.until > now ? followed : undefined;
    if (onName === undefined) return kept;
    return kept !== undefined && kept.until >= onName.until ? kept : onName;
  }

  /** Lifts the mute on `name`, on its holder wherever it came from, and on whoever it followed from that name. */
  private unmute(event: Extract<ChatEvent, { type: 'unmuted' }>): void {
    const key = nameKey(event.name);
    const holder = this.users.get(this.keys.get(key) ?? '');
    const from = holder?.extras?.mute;
    this.sanctions.apply(event);
    if (from !== undefined) this.sanctions.apply({ ...event, name: from.name });
    for (const user of this.users.values()) {
      const extras = user.extras;
      if (extras?.mute !== undefined && (extras.mute.key === key || extras.mute.key === from?.key || user === holder)) extras.mute = undefined;
    }
  }

  private move(id: UserId, room: string, at: number): boolean {
    const user = this.users.get(id);
    if (user === undefined || user.room === room) return false;
    this.exit(user.room);
    this.enter(room);
    user.room = room;
    user.activeAt = at;
    return true;
  }

  private record(event: HistoryEvent): boolean {
    if (!this.update(event.user, (user) => { user.activeAt = event.at; })) return false;
    if (this.isMuted(event.user, event.at)) return true; // a muted line reaches its sender alone, and no one who joins later
    const room = this.roomRecords.get(event.room);
    if (room === undefined || this.historyLines === 0) return true;
    this.remember(event.room, room, event);
    return true;
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
    const record = this.roomRecords.get(name);
    if (record === undefined) return;
    this.roomRecords.delete(name);
    this.byUse.delete(name);
    this.historyBytes -= record.historyBytes;
  }

  private whisper(from: UserId, to: UserId, at: number): boolean {
    this.update(to, (user) => { extrasOf(user).lastWhisperer = from; });
    return this.update(from, (user) => { user.activeAt = at; });
  }

  private ignore(id: UserId, target: UserId): boolean {
    if (!this.users.has(target) || !this.update(id, (user) => { (extrasOf(user).ignores ??= new Set()).add(target); })) return false;
    this.ignorers.add(id);
    return true;
  }

  private setTopic(room: string, topic: string): boolean {
    const record = this.roomRecords.get(room);
    if (record !== undefined) record.topic = topic === '' ? undefined : topic; // cleared: an empty room may go again
    return record !== undefined;
  }

  /** The user gave the password of the name whose key is `key`, registered as `account`. */
  private identify(user: UserRecord, key: string, account: string | undefined): void {
    const extras = extrasOf(user);
    extras.identified = key;
    extras.account = account;
  }

  /** The fingerprint of the key `id` logged in with (SSH), when a key stood for their password. */
  loginKeyOf(id: UserId): string | undefined {
    return this.users.get(id)?.extras?.loginKey;
  }

  private update(id: UserId, change: (user: UserRecord) => void): boolean {
    const user = this.users.get(id);
    if (user !== undefined) change(user);
    return user !== undefined;
  }

  /**
   * Only `node`'s users stay, without a word: the others are out of reach, not gone. True when
   * its users are to be told, once per outage: not when the bus dropped again before it was one.
   */
  keepNode(node: string): boolean {
    this.apart = true;
    this.rejoiningNode = false;
    for (const user of [...this.users.values()]) if (nodeOf(user.id) !== node) this.leave(user.id);
    const tell = !this.toldApart;
    this.toldApart = true;
    return tell;
  }

  /**
   * True from the cluster's state restored until this node's roster is back in it (`rejoin`):
   * some of its users may not be in the state yet.
   */
  get rejoining(): boolean {
    return this.rejoiningNode;
  }

  /** This node's users are back in the cluster's state; true when they are to be told, having been told it was apart. */
  rejoin(): boolean {
    const tell = this.toldApart;
    this.rejoiningNode = false;
    this.toldApart = false;
    return tell;
  }

  /** `node`'s users as its roster lists them: what the state holds of them, as values. */
  rosterOf(node: string): RosterUser[] {
    const listed: RosterUser[] = [];
    for (const { id, nick, room, connectedAt, from, extras } of this.users.values()) {
      if (nodeOf(id) !== node) continue;
      const user: RosterUser = from === '' ? { id, nick, room, connectedAt } : { id, nick, room, connectedAt, from };
      const { identified, account } = extras ?? {};
      listed.push(identified === undefined ? user : { ...user, identified, ...(account === undefined ? {} : { account }) });
    }
    return listed;
  }

  /**
   * Becomes the state `data` describes, history and all: the cluster's, as a snapshot holds it.
   * `rejoining`: this node's roster follows; else it had nobody, and is one with the others now.
   */
  restore(data: StateData, rejoining: boolean): void {
    this.apart = false;
    this.rejoiningNode = rejoining;
    if (!rejoining) this.toldApart = false; // nobody here to tell: whoever comes next is in the one chat
    for (const id of [...this.users.keys()]) this.leave(id);
    this.roomRecords.clear();
    this.byUse.clear();
    this.historyBytes = 0;
    for (const { room, topic } of data.rooms) this.roomRecords.set(room, { ...emptyRoom(), topic: topic ?? undefined });
    this.restoreHistories(data);
    for (const user of data.users) {
      if (!this.join(user.id, user.nick, user.room, user.connectedAt, user.from)) continue;
      this.update(user.id, (record) => {
        record.activeAt = user.activeAt;
        const { identified, away, lastWhisperer, ignores, account } = user;
        if (identified === null && away === null && lastWhisperer === null && ignores.length === 0) return;
        record.extras = {
          identified: identified ?? undefined,
          account: account ?? undefined,
          loginKey: undefined, // a snapshot does not carry it: /whois shows none for a user restored from one
          away: away ?? undefined,
          lastWhisperer: lastWhisperer ?? undefined,
          ignores: ignores.length > 0 ? new Set(ignores) : undefined,
          kicked: false, // a kicked user's connection is closing on their node, which left the snapshot
          mute: undefined, // mutes are not in a snapshot, as they are not saved
        };
      });
      if (user.ignores.length > 0) this.ignorers.add(user.id);
    }
  }

  /**
   * Each room's lines, replayed least recently used room first and line by line under this
   * state's own bounds (a snapshot from a node with larger ones keeps what these allow), each room
   * as restored (version 0): as the snapshot holds it.
   */
  private restoreHistories(data: StateData): void {
    const byRank = data.rooms.map((room, index) => ({ room, rank: room.used ?? 0, index }));
    byRank.sort((a, b) => a.rank - b.rank || a.index - b.index);
    for (const { room } of byRank) {
      const record = this.roomRecords.get(room.room);
      if (record === undefined || this.historyLines === 0) continue;
      for (const line of room.history) this.remember(room.room, record, line);
    }
    for (const record of this.roomRecords.values()) record.historyVersion = 0;
  }

  private enter(room: string): void {
    const record = this.roomRecords.get(room);
    if (record !== undefined) {
      record.count += 1;
      return;
    }
    this.roomRecords.set(room, { ...emptyRoom(), count: 1 });
    if (this.roomRecords.size <= MAX_ROOMS) return;
    const oldestEmpty = [...this.roomRecords].find(([, { count }]) => count === 0);
    if (oldestEmpty !== undefined) this.dropRoom(oldestEmpty[0]);
  }

  /**
   * A room with nobody in it and no topic is gone, its history with it; but for a room emptied by
   * a node that went, whose users may be back (every node restarted, say) and find what was said.
   */
  private exit(room: string, nodeGone = false): void {
    const record = this.roomRecords.get(room);
    if (record === undefined) return;
    record.count -= 1;
    const keep = record.topic !== undefined || (nodeGone && record.history.length > 0);
    if (record.count === 0 && !keep) this.dropRoom(room);
  }
}

const emptyRoom = (): RoomRecord => ({ count: 0, topic: undefined, history: [], historyBytes: 0, historyVersion: 0 });
