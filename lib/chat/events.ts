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
  | { readonly type: 'joined'; readonly user: UserId; readonly nick: string; readonly room: string; readonly at: number }
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
  | { readonly type: 'topic'; readonly user: UserId; readonly nick: string; readonly room: string; readonly topic: string; readonly at: number };

/** A line of a room's history: what was said in it, kept for those who join later. */
export type HistoryEvent = Extract<ChatEvent, { readonly type: 'said' | 'acted' }>;
