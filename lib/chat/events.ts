/**
 * Everything that changes the chat, as plain values: JSON round-trips them unchanged, so they
 * can travel on any bus. Each event carries what its rendering needs (names, rooms), so a
 * receiver renders it without the state from before it. `at` is when it happened, in ms.
 */


/** One connection, unique on its node; the node's prefix makes it unique across nodes. */
export type UserId = string;

/** The node a clustered user id belongs to: the part before its first colon. */
export const nodeOf = (user: UserId): string => user.slice(0, Math.max(0, user.indexOf(':')));

/** The room everyone starts in; its texts are the seed's, byte for byte. */
export const MAIN_ROOM = '#main';

export type ChatEvent =
  | {
      readonly type: 'joined';
      readonly user: UserId;
      readonly nick: string;
      readonly room: string;
      readonly at: number;
      /** The peer's address, which a ban of the user bans too; absent when not known. */
      readonly from?: string;
    }
  | {
      readonly type: 'left';
      readonly user: UserId;
      readonly nick: string;
      readonly room: string;
      readonly at: number;
      /** They left because their node stopped or died, not by choice: a room they empty keeps its history for their return. */
      readonly nodeGone?: true;
    }
  | { readonly type: 'said'; readonly user: UserId; readonly nick: string; readonly room: string; readonly text: string; readonly at: number }
  | { readonly type: 'acted'; readonly user: UserId; readonly nick: string; readonly room: string; readonly text: string; readonly at: number }
  | {
      readonly type: 'renamed';
      readonly user: UserId;
      readonly from: string;
      readonly nick: string;
      readonly room: string;
      readonly at: number;
      /** The chat renamed them: an earlier login on another node took the name during an outage, or its owner (`owner`). */
      readonly displaced?: true;
      /** They held a registered name without its password, and its owner logged in with it. */
      readonly owner?: true;
    }
  | {
      // The owner of a registered name logged in with its password on a new connection (`user`)
      // while another connection held it (`replaced`): the new one goes on as that user, in their
      // room, away or not, ignoring whom they ignored; the old one is told and closed.
      readonly type: 'resumed';
      readonly user: UserId;
      readonly replaced: UserId;
      readonly nick: string;
      readonly at: number;
      /** The new connection's peer address; absent when not known. */
      readonly from?: string;
    }
  | { readonly type: 'moved'; readonly user: UserId; readonly nick: string; readonly from: string; readonly room: string; readonly at: number }
  | {
      readonly type: 'whispered';
      readonly user: UserId;
      readonly nick: string;
      readonly to: UserId;
      readonly toNick: string;
      readonly text: string;
      readonly at: number;
    }
  | { readonly type: 'away'; readonly user: UserId; readonly reason: string; readonly at: number }
  | { readonly type: 'back'; readonly user: UserId; readonly at: number }
  | { readonly type: 'ignored'; readonly user: UserId; readonly target: UserId; readonly targetNick: string; readonly at: number }
  | { readonly type: 'unignored'; readonly user: UserId; readonly target: UserId; readonly targetNick: string; readonly at: number }
  | { readonly type: 'topic'; readonly user: UserId; readonly nick: string; readonly room: string; readonly topic: string; readonly at: number }
  // A node found dead, or stopping: every user of it leaves, each with a leave line.
  | { readonly type: 'node-lost'; readonly node: string; readonly at: number }
  // A node back from an outage says who its users are: those it lost leave, the others are (re)joined.
  | { readonly type: 'roster'; readonly node: string; readonly users: readonly RosterUser[]; readonly at: number }
  // The events below never travel: a node makes them for itself.
  // A user of a roster the chat did not hold; `was` is the name they had, taken meanwhile when it differs.
  | {
      readonly type: 'returned';
      readonly user: UserId;
      readonly nick: string;
      readonly was: string;
      readonly room: string;
      readonly connectedAt: number;
      /** The peer's address, as the roster gave it; '' when it did not (a node of an older version). */
      readonly from: string;
      /** The key of the registered name whose password they gave, as the roster gave it. */
      readonly identified?: string;
      /** The id of that name's account, as the roster gave it. */
      readonly account?: string;
      /** `was` is registered, and its owner, who gave its password, holds it. */
      readonly owner?: true;
      readonly at: number;
    }
  | ModerationEvent;

/**
 * The events a user's commands publish whose effect a later line of theirs may read: their
 * login, room, name, away reason, whom they ignore, their room's topic, what they did as an
 * operator. A session decides nothing more of its user's until such an event of theirs is back
 * from the bus; their lines (said, acted, whispered) change nothing a later line reads, so they
 * are never waited for.
 */
const OWN_CHANGE_TYPES = [
  'joined', 'resumed', 'moved', 'renamed', 'away', 'back', 'ignored', 'unignored', 'topic',
  'opped', 'deopped', 'kicked', 'banned', 'unbanned', 'muted', 'unmuted', 'motd',
] as const satisfies readonly ChatEvent['type'][];

const OWN_CHANGES: ReadonlySet<string> = new Set(OWN_CHANGE_TYPES);

/** An event of OWN_CHANGE_TYPES; its `user` made it. */
export type OwnChange = Extract<ChatEvent, { readonly type: (typeof OWN_CHANGE_TYPES)[number] }>;

/** True when `event` is one its user's later lines wait for; a rename the chat made on its own (`displaced`) is not. */
export const isOwnChange = (event: ChatEvent): event is OwnChange =>
  OWN_CHANGES.has(event.type) && !(event.type === 'renamed' && event.displaced === true);

/** A user as a roster lists them. */
export interface RosterUser {
  readonly id: UserId;
  readonly nick: string;
  readonly room: string;
  readonly connectedAt: number;
  /** The peer's address, for address bans; '' when not known, absent from an older node's roster. */
  readonly from?: string;
  /** The key of the registered name whose password they gave; absent when they gave none. */
  readonly identified?: string;
  /** The id of the account whose password they gave; absent when they gave none, or from an older node. */
  readonly account?: string;
}

/** The chat's state as plain data, for a snapshot: `ChatState.toJSON` makes it, `ChatState.restore` reads it. */
export interface StateData {
  readonly users: readonly UserData[];
  readonly rooms: readonly RoomData[];
}

export interface UserData {
  readonly id: UserId;
  readonly nick: string;
  readonly room: string;
  readonly away: string | null;
  readonly connectedAt: number;
  readonly activeAt: number;
  readonly ignores: readonly UserId[];
  readonly lastWhisperer: UserId | null;
  /** The peer's address, for address bans; '' when not known. */
  readonly from: string;
  /** The key of the registered name whose password the user gave, if any. */
  readonly identified: string | null;
  /** The id of that name's account; absent from an older node's snapshot. */
  readonly account?: string | null;
}

export interface RoomData {
  readonly room: string;
  readonly topic: string | null;
  readonly history: readonly HistoryEvent[];
  /**
   * The room's place among the rooms with a history, least recently spoken in first (from 1), so
   * that a restored state drops lines in the order the others do; absent when it has no history
   * (or from a node before the history had a bound in bytes).
   */
  readonly used?: number;
}


/** A ban: of a name (and its lookalikes) and, when it was known, the address it came from. */
export interface Ban {
  readonly name: string;
  /** '' when the name was banned while nobody held it. */
  readonly address: string;
  /** When it ends, in ms; null when it does not. */
  readonly until: number | null;
  /** The operator's name. */
  readonly by: string;
  /** '' when none was given. */
  readonly reason: string;
}

/**
 * Who moderates, and what they did. `user` and `nick` are the operator's. Names are as typed or
 * as held: a state keys them by `nameKey`, so lookalikes share one. A node starts from what
 * was saved (`moderation-loaded`): the names that are operators (`fixedOps` by configuration,
 * `ops` by `/op`), the bans and the message of the day.
 */
export type ModerationEvent =
  /** `account`: the id of the account whose password the user gave (absent from an older node). */
  /** `key`: the fingerprint of the key (SSH) that stood for the password. */
  | { readonly type: 'identified'; readonly user: UserId; readonly nick: string; readonly account?: string; readonly key?: string; readonly at: number }
  /** `account`: the id of the account `name`'s holder gave the password of, which the grant goes to. */
  | { readonly type: 'opped'; readonly user: UserId; readonly nick: string; readonly name: string; readonly account?: string; readonly at: number }
  | { readonly type: 'deopped'; readonly user: UserId; readonly nick: string; readonly name: string; readonly at: number }
  | {
      readonly type: 'kicked';
      readonly user: UserId;
      readonly nick: string;
      readonly target: UserId;
      readonly targetNick: string;
      readonly room: string;
      readonly reason: string;
      readonly at: number;
    }
  | { readonly type: 'banned'; readonly user: UserId; readonly nick: string; readonly ban: Ban; readonly at: number }
  | { readonly type: 'unbanned'; readonly user: UserId; readonly nick: string; readonly target: string; readonly at: number }
  | { readonly type: 'muted'; readonly user: UserId; readonly nick: string; readonly name: string; readonly until: number; readonly at: number }
  | { readonly type: 'unmuted'; readonly user: UserId; readonly nick: string; readonly name: string; readonly at: number }
  | { readonly type: 'motd'; readonly user: UserId; readonly nick: string; readonly text: string; readonly at: number }
  | {
      readonly type: 'moderation-loaded';
      readonly fixedOps: readonly string[];
      readonly ops: readonly string[];
      /** Name key -> the account its `/op` was given to; absent or partial for grants saved before ids. */
      readonly opAccounts?: Readonly<Record<string, string>>;
      readonly bans: readonly Ban[];
      readonly motd: string;
      readonly at: number;
    };

/** What a node loads moderation from: what was saved, and the operators by configuration. */
export type ModerationLoaded = Extract<ModerationEvent, { readonly type: 'moderation-loaded' }>;

/** A line of a room's history: what was said in it, kept for those who join later. */
export type HistoryEvent = Extract<ChatEvent, { readonly type: 'said' | 'acted' }>;
