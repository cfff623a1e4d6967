/**
 * Everything that changes the chat, as plain values: JSON round-trips them unchanged, so they
 * can travel on any bus. Each event carries what its rendering needs (names, rooms), so a
 * receiver renders it without the state from before it. `at` is when it happened, in ms.
 */

/** One connection, unique on its node; the node's prefix makes it unique across nodes. */
export type UserId = string;

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
  | { readonly type: 'left'; readonly user: UserId; readonly nick: string; readonly room: string; readonly at: number }
  | { readonly type: 'said'; readonly user: UserId; readonly nick: string; readonly room: string; readonly text: string; readonly at: number }
  | { readonly type: 'acted'; readonly user: UserId; readonly nick: string; readonly room: string; readonly text: string; readonly at: number }
  | { readonly type: 'renamed'; readonly user: UserId; readonly from: string; readonly nick: string; readonly room: string; readonly at: number }
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
  | ModerationEvent;

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
 * as held: a state keys them by `nameKey`, so lookalikes share one. `restored` is what a node
 * starts from: the names that are operators (`fixedOps` by configuration, `ops` by `/op`), the
 * bans and the message of the day that were saved.
 */
export type ModerationEvent =
  | { readonly type: 'identified'; readonly user: UserId; readonly nick: string; readonly at: number }
  | { readonly type: 'opped'; readonly user: UserId; readonly nick: string; readonly name: string; readonly at: number }
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
      readonly type: 'restored';
      readonly fixedOps: readonly string[];
      readonly ops: readonly string[];
      readonly bans: readonly Ban[];
      readonly motd: string;
      readonly at: number;
    };

/** A line of a room's history: what was said in it, kept for those who join later. */
export type HistoryEvent = Extract<ChatEvent, { readonly type: 'said' | 'acted' }>;
