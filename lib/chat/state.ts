import { type ChatEvent, type HistoryEvent, nodeOf, type StateData, type UserId } from './events';
import { nameKey } from './names';
import { HISTORY_BYTES, HISTORY_LINES, type HistoryChanges, type RoomSummary, Rooms } from './room-records';
import { extrasOf, snapshot, type UserRecord, UserTable } from './user-table';

export { HISTORY_BYTES, HISTORY_LINES, type HistoryChanges, historyLineBytes, MAX_HISTORY_LINES, MAX_ROOMS, type RoomSummary, utf8Bytes } from './room-records';
export type { User } from './user-table';

/**
 * The chat's state: who is online, in which room, away, whom they ignore; each room's topic and
 * history. `apply` is the one place it changes; it mutates and returns this state (copying a map
 * of 10,000 users per event would be quadratic), so every lookup returns a copy. An event that
 * cannot apply (a name another user took first, a user who is gone) changes nothing, so every
 * node that applies the same events in the same order holds the same state. Who is online and
 * what may be asked of them is its UserTable's; the rooms are its Rooms'.
 */
export class ChatState extends UserTable {
  private readonly roomRecords: Rooms;
  private apart = false;
  private rejoiningNode = false;
  private toldApart = false; // this node's users were told the others are out of reach, not yet that they are back

  /**
   * `startedAt`: when this node's chat began, in ms, as its clock reads; `/uptime` counts from it.
   * `historyLines` bounds each room's history, `historyBytes` all of them together.
   */
  constructor(
    historyLines = HISTORY_LINES,
    readonly startedAt = 0,
    historyBytesBound = HISTORY_BYTES,
  ) {
    super();
    this.roomRecords = new Rooms(historyLines, historyBytesBound);
  }

  /**
   * Applies one event; true when it changed the state. One that did not (a name another user
   * took first, a user who is gone, a departure already seen) shows nothing to anyone.
   */
  apply(event: ChatEvent): boolean {
    return this.change(event);
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
    return { users, rooms: this.roomRecords.toJSON() };
  }

  /** The state as `toJSON` gives it, but with every room's history left out: a snapshot keeps those apart. */
  outline(): StateData {
    const { users, rooms } = this.toJSON();
    return { users, rooms: rooms.map((room) => ({ ...room, history: [] })) };
  }

  /** The rooms whose history changed after `since` (a `version` this gave before; 0 for all but those restored). */
  historyChanges(since: number): HistoryChanges {
    return this.roomRecords.historyChanges(since);
  }

  /** The bytes of history all rooms keep now. */
  get historySize(): number {
    return this.roomRecords.historySize;
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
      case 'topic': return this.roomRecords.setTopic(event.room, event.topic);
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

  /** How many are in `room`; 0 when it does not exist. */
  headcount(room: string): number {
    return this.roomRecords.headcount(room);
  }

  /** Every room, with how many are in it and its topic. */
  rooms(): RoomSummary[] {
    return this.roomRecords.list();
  }

  /** The room's topic; undefined when it has none or does not exist. */
  topic(room: string): string | undefined {
    return this.roomRecords.topic(room);
  }

  /** The room's last lines, oldest first. */
  history(room: string): HistoryEvent[] {
    return this.roomRecords.history(room);
  }

  private join(id: UserId, nick: string, room: string, at: number, from: string): boolean {
    const key = nameKey(nick);
    if (this.users.has(id) || this.keys.has(key)) return false; // the name's first claim wins, on every node
    const record: UserRecord = { id, nick, key, room, connectedAt: at, activeAt: at, from, extras: undefined };
    this.users.set(id, record);
    this.keys.set(key, id);
    this.roomRecords.enter(room);
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
    this.roomRecords.exit(user.room, nodeGone);
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
    this.roomRecords.exit(user.room);
    this.roomRecords.enter(room);
    user.room = room;
    user.activeAt = at;
    return true;
  }

  private record(event: HistoryEvent): boolean {
    if (!this.update(event.user, (user) => { user.activeAt = event.at; })) return false;
    if (this.isMuted(event.user, event.at)) return true; // a muted line reaches its sender alone, and no one who joins later
    this.roomRecords.record(event);
    return true;
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

  /** The user gave the password of the name whose key is `key`, registered as `account`. */
  private identify(user: UserRecord, key: string, account: string | undefined): void {
    const extras = extrasOf(user);
    extras.identified = key;
    extras.account = account;
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

  /**
   * Becomes the state `data` describes, history and all: the cluster's, as a snapshot holds it.
   * `rejoining`: this node's roster follows; else it had nobody, and is one with the others now.
   */
  restore(data: StateData, rejoining: boolean): void {
    this.apart = false;
    this.rejoiningNode = rejoining;
    if (!rejoining) this.toldApart = false; // nobody here to tell: whoever comes next is in the one chat
    for (const id of [...this.users.keys()]) this.leave(id);
    this.roomRecords.restore(data.rooms);
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
}
