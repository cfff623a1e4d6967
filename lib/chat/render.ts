import type { ChatEvent, HistoryEvent, UserId } from './events';
import type { Outgoing } from './outgoing';
import type { ChatState } from './state';
import * as text from './texts';

const send = (to: UserId, line: string): Outgoing => ({ kind: 'send', to, text: line });
const broadcast = (room: string, line: string, hiddenFrom: readonly UserId[] = []): Outgoing => ({ kind: 'broadcast', room, text: line, hiddenFrom });

/** A history line as it was said. */
const historyLine = (event: HistoryEvent): string =>
  event.type === 'said' ? text.said(event.nick, event.text) : text.acted(event.nick, event.text);

/**
 * What `user` sees on entering `room`: its history (but lines from those they ignore), the join
 * line, then its topic. `before` comes first, to them alone.
 */
function entering(state: ChatState, user: UserId, nick: string, room: string, before: string): Outgoing[] {
  const history = state.history(room).filter((event) => !state.ignores(user, event.user)).map(historyLine);
  const topic = state.topic(room);
  const first = before + history.join('');
  const seen: Outgoing[] = first === '' ? [] : [send(user, first)];
  seen.push({ kind: 'enter', to: user, room }, broadcast(room, text.joined(nick, room)));
  if (topic !== undefined) seen.push(send(user, text.topicIs(room, topic)));
  return seen;
}

/**
 * What an event shows, to whom: rendered from the event and, for each viewer, what the state
 * (after the event) says of them, so an ignored sender's lines are hidden from their ignorers
 * alone. Lines that everyone in a room sees alike are one broadcast, written once for them all.
 */
export function render(event: ChatEvent, state: ChatState): Outgoing[] {
  switch (event.type) {
    case 'joined':
      return state.user(event.user)?.nick === event.nick ? entering(state, event.user, event.nick, event.room, text.welcome(event.nick)) : [];
    case 'left':
      return [{ kind: 'exit', to: event.user }, broadcast(event.room, text.left(event.nick))];
    case 'said':
    case 'acted':
      return [broadcast(event.room, historyLine(event), state.ignorersIn(event.room, event.user))];
    case 'renamed': // not applied when another node's user took the name first
      return state.user(event.user)?.nick === event.nick ? [broadcast(event.room, text.renamed(event.from, event.nick))] : [];
    case 'moved':
      return [
        broadcast(event.from, text.movedTo(event.nick, event.room)),
        { kind: 'exit', to: event.user },
        ...entering(state, event.user, event.nick, event.room, ''),
      ];
    case 'whispered':
      return whispered(event, state);
    case 'away':
      return [send(event.user, text.nowAway(event.reason))];
    case 'back':
      return [send(event.user, text.NOW_BACK)];
    case 'ignored':
      return [send(event.user, text.ignoring(event.targetNick))];
    case 'unignored':
      return [send(event.user, text.unignoring(event.targetNick))];
    case 'topic':
      return [broadcast(event.room, text.topicSet(event.nick, event.topic))];
    case 'returned':
      return returned(event);
    case 'bus-down':
      return state.rooms().map(({ room }) => broadcast(room, text.BUS_DOWN));
    case 'restored': // the chat tells its users, who may not be in the restored state yet
    case 'node-lost': // the chat renders these as the user events they stand for
    case 'roster':
      return [];
  }
}

function whispered(event: Extract<ChatEvent, { type: 'whispered' }>, state: ChatState): Outgoing[] {
  const seen: Outgoing[] = [];
  if (!state.ignores(event.to, event.user)) seen.push(send(event.to, text.whisperFrom(event.nick, event.text)));
  seen.push(send(event.user, text.whisperTo(event.toNick, event.text)));
  const away = state.user(event.to)?.away;
  if (away !== undefined) seen.push(send(event.user, text.isAway(event.toNick, away)));
  return seen;
}

function returned(event: Extract<ChatEvent, { type: 'returned' }>): Outgoing[] {
  const seen = [broadcast(event.room, text.joined(event.nick, event.room))];
  if (event.was !== event.nick) seen.push(send(event.user, text.renamedOnReturn(event.was, event.nick)));
  return seen;
}
