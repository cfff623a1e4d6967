import { type ChatEvent, MAIN_ROOM, type UserId } from '../../lib/chat/events';
import { type Caller, NO_TRIES } from '../../lib/chat/intent';
import { ChatState } from '../../lib/chat/state';

/** Chat events for specs, with every field their type needs; in #main at time 0 unless given. */
type Of<T extends ChatEvent['type']> = Extract<ChatEvent, { readonly type: T }>;

export const joined = (user: UserId, nick: string, room = MAIN_ROOM, at = 0): Of<'joined'> => ({ type: 'joined', user, nick, room, at });
export const left = (user: UserId, nick: string, room = MAIN_ROOM, at = 0): Of<'left'> => ({ type: 'left', user, nick, room, at });
export const said = (user: UserId, nick: string, text: string, room = MAIN_ROOM, at = 0): Of<'said'> =>
  ({ type: 'said', user, nick, room, text, at });
export const acted = (user: UserId, nick: string, text: string, room = MAIN_ROOM, at = 0): Of<'acted'> =>
  ({ type: 'acted', user, nick, room, text, at });
export const renamed = (user: UserId, from: string, nick: string, room = MAIN_ROOM, at = 0): Of<'renamed'> =>
  ({ type: 'renamed', user, from, nick, room, at });
export const moved = (user: UserId, nick: string, from: string, room: string, at = 0): Of<'moved'> =>
  ({ type: 'moved', user, nick, from, room, at });
export const whispered = (user: UserId, nick: string, to: UserId, toNick: string, text: string, at = 0): Of<'whispered'> =>
  ({ type: 'whispered', user, nick, to, toNick, text, at });
export const away = (user: UserId, reason: string, at = 0): Of<'away'> => ({ type: 'away', user, reason, at });
export const back = (user: UserId, at = 0): Of<'back'> => ({ type: 'back', user, at });
export const ignored = (user: UserId, target: UserId, targetNick: string, at = 0): Of<'ignored'> =>
  ({ type: 'ignored', user, target, targetNick, at });
export const unignored = (user: UserId, target: UserId, targetNick: string, at = 0): Of<'unignored'> =>
  ({ type: 'unignored', user, target, targetNick, at });
export const topic = (user: UserId, nick: string, text: string, room = MAIN_ROOM, at = 0): Of<'topic'> =>
  ({ type: 'topic', user, nick, room, topic: text, at });

/** `state` with `events` applied, in order: a spec's way to build a state, since `apply` says what it did. */
export function given(state: ChatState, ...events: readonly ChatEvent[]): ChatState {
  for (const event of events) state.apply(event);
  return state;
}

/** A new state with `events` applied, in order. */
export const stateAfter = (...events: readonly ChatEvent[]): ChatState => given(new ChatState(), ...events);

export const identified = (user: UserId, nick: string, at = 0): Of<'identified'> => ({ type: 'identified', user, nick, at });
export const restored = (fixedOps: readonly string[], more: Partial<Omit<Of<'moderation-loaded'>, 'type' | 'fixedOps'>> = {}): Of<'moderation-loaded'> =>
  ({ type: 'moderation-loaded', fixedOps, ops: [], bans: [], motd: '', at: 0, ...more });

/** A connection over TLS that has tried nothing yet, under the default rules: what a login intent of a spec comes from. */
export const CALLER: Caller = { secure: true, rules: { maxNameAttempts: 10, requireTlsForPasswords: false }, tries: NO_TRIES };
