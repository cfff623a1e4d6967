import { nodeOf, type RosterUser, type UserId } from './events';
import { Moderation, type ModerationView } from './moderation';
import { nameKey } from './names';

/** A logged-in user as the state holds it. */
export interface UserRecord {
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

export const extrasOf = (user: UserRecord): UserExtras =>
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

export const snapshot = ({ id, nick, room, connectedAt, activeAt, from, extras }: UserRecord): User =>
  ({ id, nick, room, away: extras?.away, connectedAt, activeAt, lastWhisperer: extras?.lastWhisperer, from });

/**
 * Who is online, as the chat's state holds them, and what may be asked of it: each user's name,
 * room, password given, ignores and mute, and the sanctions on names. The chat's state changes it
 * (`ChatState.apply`); every lookup returns a copy.
 */
export class UserTable {
  protected readonly users = new Map<UserId, UserRecord>(); // in login order
  protected readonly keys = new Map<string, UserId>(); // name key -> its holder
  protected readonly ignorers = new Set<UserId>(); // users who ignore anyone, so a departure forgets it fast
  protected readonly sanctions = new Moderation();

  /** How many users are logged in. */
  get online(): number {
    return this.users.size;
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

  /** The fingerprint of the key `id` logged in with (SSH), when a key stood for their password. */
  loginKeyOf(id: UserId): string | undefined {
    return this.users.get(id)?.extras?.loginKey;
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

  /** When the user's mute ends, or undefined when they are not muted at `now`. */
  protected muteEnd(id: UserId, now: number): number | undefined {
    const user = this.users.get(id);
    return user === undefined ? undefined : this.muteOf(user, now)?.until;
  }

  /** The mute on the user at `now`: the one on their name, or the one that followed them, whichever ends later. */
  protected muteOf(user: UserRecord, now: number): FollowedMute | undefined {
    const followed = user.extras?.mute;
    const nameUntil = this.sanctions.mutedUntil(user.nick, now);
    const onName = nameUntil === undefined ? undefined : { name: user.nick, key: user.key, until: nameUntil };
    const kept = followed !== undefined && followed.until > now ? followed : undefined;
    if (onName === undefined) return kept;
    return kept !== undefined && kept.until >= onName.until ? kept : onName;
  }

  protected update(id: UserId, change: (user: UserRecord) => void): boolean {
    const user = this.users.get(id);
    if (user !== undefined) change(user);
    return user !== undefined;
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
}
