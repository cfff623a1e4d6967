import type { ChatEvent, HistoryEvent, ModerationEvent, UserId } from './events';
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
      return state.user(event.user)?.nick === event.nick ? entering(state, event.user, event.nick, event.room, welcome(state, event.nick)) : [];
    case 'left':
      return [{ kind: 'exit', to: event.user }, broadcast(event.room, text.left(event.nick))];
    case 'said':
    case 'acted':
      if (state.isMuted(event.user, event.at)) return [send(event.user, historyLine(event))];
      return [broadcast(event.room, historyLine(event), state.ignorersIn(event.room, event.user))];
    case 'renamed':
      return renamed(event, state);
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
      return [broadcast(event.room, event.topic === '' ? text.topicCleared(event.nick) : text.topicSet(event.nick, event.topic))];
    case 'returned':
      return returned(event);
    case 'resumed':
      return resumed(event, state);
    case 'node-lost': // the chat renders these as the user events they stand for
    case 'roster':
      return [];
    default:
      return moderation(event, state);
  }
}

/**
 * The old connection is told and closed; the new one, where the user was, is shown what they
 * would see on entering their room, with no join line: the room sees nobody leave or come.
 */
function resumed(event: Extract<ChatEvent, { type: 'resumed' }>, state: ChatState): Outgoing[] {
  const user = state.user(event.user);
  if (user === undefined) return [];
  const history = state.history(user.room).filter((line) => !state.ignores(user.id, line.user)).map(historyLine);
  const topic = state.topic(user.room);
  const seen: Outgoing[] = [
    send(event.replaced, text.LOGGED_IN_ELSEWHERE),
    { kind: 'close', to: event.replaced, reason: 'replaced' },
    send(user.id, welcome(state, user.nick) + text.tookOver(user.room) + history.join('')),
    { kind: 'enter', to: user.id, room: user.room },
  ];
  if (topic !== undefined) seen.push(send(user.id, text.topicIs(user.room, topic)));
  if (user.away !== undefined) seen.push(send(user.id, text.nowAway(user.away)));
  return seen;
}

/** `Welcome, NAME`, then the message of the day if there is one. */
const welcome = (state: ChatState, nick: string): string => {
  const motd = state.moderation.motd;
  return text.welcome(nick) + (motd === '' ? '' : text.motdLine(motd));
};

/** What moderation shows: the room is told of kicks and bans, a mute is told to no one but the operator. */
function moderation(event: ModerationEvent, state: ChatState): Outgoing[] {
  switch (event.type) {
    case 'identified':
      return state.isOperator(event.user) ? [send(event.user, text.YOU_ARE_AN_OPERATOR)] : [];
    case 'opped':
      return toHolder(state, event, text.madeOperator(event.nick), text.nowOperator(event.name));
    case 'deopped':
      return toHolder(state, event, text.unmadeOperator(event.nick), text.noLongerOperator(event.name));
    case 'kicked':
      return removed(state, event, event.target, text.kicked(event.targetNick, event.nick, event.reason), text.youWereKicked(event.nick, event.reason));
    case 'banned':
      return banned(event, state);
    case 'unbanned':
      return [send(event.user, text.unbanned(event.target))];
    case 'muted':
      return [send(event.user, text.muted(event.name, event.until))];
    case 'unmuted':
      return [send(event.user, text.unmuted(event.name))];
    case 'motd':
      return [send(event.user, event.text === '' ? text.MOTD_CLEARED : text.MOTD_SET)];
    case 'moderation-loaded':
      return [];
  }
}

/** `line` to whoever holds the name now, if anyone but the operator does, then `reply` to the operator. */
function toHolder(state: ChatState, event: Extract<ModerationEvent, { readonly type: 'opped' | 'deopped' }>, line: string, reply: string): Outgoing[] {
  const holder = state.userNamed(event.name);
  const seen = holder === undefined || holder.id === event.user ? [] : [send(holder.id, line)];
  return [...seen, send(event.user, reply)];
}

/**
 * A user put out: their room told `roomLine` (the operator too, wherever they are), the user
 * told `ownLine`, then their connection closed.
 */
function removed(state: ChatState, event: Extract<ModerationEvent, { readonly type: 'kicked' | 'banned' }>, target: UserId, roomLine: string, ownLine: string): Outgoing[] {
  const room = state.user(target)?.room;
  if (room === undefined) return [];
  const seen: Outgoing[] = [broadcast(room, roomLine, [target])];
  if (state.user(event.user)?.room !== room) seen.push(send(event.user, roomLine));
  seen.push(send(target, ownLine), { kind: 'close', to: target, reason: event.type === 'kicked' ? 'kick' : 'banned' });
  return seen;
}

/** The operator gets the ban as `/bans` lists it; a banned user online is put out. */
function banned(event: Extract<ModerationEvent, { readonly type: 'banned' }>, state: ChatState): Outgoing[] {
  const { name, address, until, by, reason } = event.ban;
  const seen = [send(event.user, text.ban(name, address, until, by, reason))];
  const holder = state.userNamed(name);
  if (holder === undefined) return seen;
  return [...seen, ...removed(state, event, holder.id, text.bannedFromRoom(holder.nick, by, reason), text.YOU_ARE_BANNED)];
}

function whispered(event: Extract<ChatEvent, { type: 'whispered' }>, state: ChatState): Outgoing[] {
  const seen: Outgoing[] = [];
  if (!state.ignores(event.to, event.user) && !state.isMuted(event.user, event.at)) seen.push(send(event.to, text.whisperFrom(event.nick, event.text)));
  seen.push(send(event.user, text.whisperTo(event.toNick, event.text)));
  const away = state.user(event.to)?.away;
  if (away !== undefined) seen.push(send(event.user, text.isAway(event.toNick, away)));
  return seen;
}

function renamed(event: Extract<ChatEvent, { type: 'renamed' }>, state: ChatState): Outgoing[] {
  if (state.user(event.user)?.nick !== event.nick) return []; // not applied: another node's user took the name first
  const seen = [broadcast(event.room, text.renamed(event.from, event.nick))];
  if (event.owner === true) seen.push(send(event.user, text.nameClaimedByOwner(event.from, event.nick)));
  else if (event.displaced === true) seen.push(send(event.user, text.renamedOnReturn(event.from, event.nick)));
  // Operator status goes with the name whose password was given: a rename can set it down or pick it up.
  const wasOperator = state.isOperatorAs(event.user, event.from);
  if (wasOperator && !state.isOperator(event.user)) seen.push(send(event.user, text.notOperatorAs(event.nick, event.from)));
  else if (!wasOperator && state.isOperator(event.user)) seen.push(send(event.user, text.YOU_ARE_AN_OPERATOR));
  return seen;
}

function returned(event: Extract<ChatEvent, { type: 'returned' }>): Outgoing[] {
  const seen = [broadcast(event.room, text.joined(event.nick, event.room))];
  if (event.was !== event.nick) seen.push(send(event.user, renamedBack(event)));
  return seen;
}

/** Why a roster's user is back under another name than theirs. */
const renamedBack = (event: Extract<ChatEvent, { type: 'returned' }>): string =>
  event.owner === true ? text.nameClaimedByOwner(event.was, event.nick) : text.renamedOnReturn(event.was, event.nick);

/**
 * What an event that did not apply shows: a `/nick` whose name another node's user took first
 * is refused to the one who asked, as one node refuses it. Nothing else is news to anyone.
 */
export function renderUnapplied(event: ChatEvent, state: ChatState): Outgoing[] {
  if (event.type !== 'renamed' || event.displaced === true) return [];
  const holder = state.userNamed(event.nick);
  return holder === undefined ? [] : [send(event.user, text.reply(`username ${holder.nick} is taken`))];
}

/**
 * What a user event from a node's own roster shows on that node, whose users saw those joins and
 * departures as they happened: only a name changed to settle a clash with another node's user,
 * and a ban that puts out a user whose name was banned meanwhile.
 */
export function renderForOwnNode(event: ChatEvent, state: ChatState): Outgoing[] {
  if (event.type === 'banned') return banned(event, state); // a name banned while the nodes were apart: its holder is put out
  if (event.type === 'renamed') return event.displaced === true ? renamed(event, state) : [];
  if (event.type !== 'returned' || event.was === event.nick) return [];
  return [broadcast(event.room, text.renamed(event.was, event.nick)), send(event.user, renamedBack(event))];
}

/** The other nodes are out of reach: every room this node's users are in hears it. */
export function renderCutOff(state: ChatState): Outgoing[] {
  return state.rooms().map(({ room }) => broadcast(room, text.BUS_DOWN));
}

/** This node's users, as its roster lists them, are back among the others: each room of theirs hears it. */
export function renderRejoined(users: readonly { readonly room: string }[]): Outgoing[] {
  return [...new Set(users.map((user) => user.room))].map((room) => broadcast(room, text.BUS_UP));
}
