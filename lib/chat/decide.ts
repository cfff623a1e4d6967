import { accountChanged, ACCOUNT_HANDLERS } from './account-changes';
import { COMMANDS, firstWord, readLine, usageOf, type CommandName } from './commands';
import { answer, type Context, type Decision, isOneWord, length, noSuchUser, NOTHING, publish, say, tooLong, usage } from './decision';
import { duration } from './durations';
import { listing, MAX_LISTED_NAMES, MAX_LISTED_ROOMS } from './listing';
import type { Intent } from './intent';
import { logIn, loginUnapplied, nameRefusal, overlongName, passwordChecked } from './login';
import { CLEAR, MODERATION_HANDLERS, motd } from './operator-commands';
import { freeVariant } from './roster';
import { roomName } from './rooms';
import { type ChatState, MAX_ROOMS, type RoomSummary, type User } from './state';
import * as text from './texts';

/** The longest topic, in characters. */
export const MAX_TOPIC_LENGTH = 200;
/** The longest away reason, in characters. */
export const MAX_AWAY_LENGTH = 200;

export type { Decision } from './decision';
export type { Intent } from './intent';
export { duration } from './durations';

/** `/help`'s column of usages: as wide as the widest, so that every description lines up. */
const HELP_USAGE_WIDTH = Math.max(...COMMANDS.map((command) => usageOf(command.name).length));

/** Decides, from the state and an intent, what happens. Pure: same state and intent, same answer. */
export function decide(state: ChatState, intent: Intent): Decision {
  switch (intent.type) {
    case 'login': return logIn(state, intent);
    case 'overlong-name': return overlongName(intent.caller);
    case 'password-checked': return passwordChecked(state, intent);
    case 'login-unapplied': return loginUnapplied(state, intent);
    case 'account-changed': return accountChanged(intent);
    case 'leave': return leave(state, intent);
    case 'line': return line(state, intent);
    case 'name-owner': return nameOwner(state, intent);
  }
}

/**
 * A registered name is its owner's: a user who holds one without its password (registered on a
 * node this one was cut off from) gives it up for a free variant, and is told. Not while this
 * node is apart, or its users are not back in the cluster's state yet: the cluster decides then.
 */
function nameOwner(state: ChatState, { user, named, at }: Extract<Intent, { readonly type: 'name-owner' }>): Decision {
  const me = state.user(user);
  if (me === undefined || state.cutOff || state.rejoining || !named.registered || state.isIdentified(user)) return NOTHING;
  return publish({ type: 'renamed', user, from: me.nick, nick: freeVariant(state, me.nick), room: me.room, at, displaced: true, owner: true });
}

/** What a name a line names is matters to its rule: `/nick NAME` and an operator's `/unregister NAME`. */
export function nameAskedBy(line: string): string | undefined {
  const typed = readLine(line);
  return typed.kind === 'command' && (typed.name === 'nick' || typed.name === 'unregister') && typed.args !== '' ? typed.args : undefined;
}

/** `/keys` is decided with the keys tied to its sender's name. */
export function asksKeys(line: string): boolean {
  const typed = readLine(line);
  return typed.kind === 'command' && typed.name === 'keys';
}

function leave(state: ChatState, intent: Extract<Intent, { readonly type: 'leave' }>): Decision {
  const me = state.user(intent.user);
  return me === undefined ? NOTHING : publish({ type: 'left', user: me.id, nick: me.nick, room: me.room, at: intent.at });
}

function line(state: ChatState, intent: Extract<Intent, { readonly type: 'line' }>): Decision {
  const me = state.user(intent.user);
  if (me === undefined) return NOTHING; // not logged in, or already gone
  if (state.isKicked(me.id)) return NOTHING; // their connection is closing
  const typed = readLine(intent.text);
  switch (typed.kind) {
    case 'chat': return publish({ type: 'said', user: me.id, nick: me.nick, room: me.room, text: typed.text, at: intent.at });
    case 'unknown': return say(`unknown command /${typed.name} (try /help)`);
    case 'command': return COMMAND_HANDLERS[typed.name]({ state, me, args: typed.args, at: intent.at, intent });
  }
}

const COMMAND_HANDLERS: Record<CommandName, (context: Context) => Decision> = {
  help: () => answer(...COMMANDS.map((command) => text.reply(`${usageOf(command.name).padEnd(HELP_USAGE_WIDTH)} ${command.help}`))),
  who: ({ state, me }) => {
    const count = state.headcount(me.room);
    const members = state.members(me.room, MAX_LISTED_NAMES).map((user) => (user.away === undefined ? user.nick : `${user.nick} (${text.awayMark(user.away)})`));
    return answer(listing(`${count} in ${me.room}: `, members, count, MAX_LISTED_NAMES));
  },
  nick: ({ state, me, args, at, intent: { named } }) => {
    if (args === '') return usage('nick');
    if (args === me.nick) return say(`you are already ${me.nick}`);
    const refusal = nameRefusal(state, args, me.id);
    if (refusal !== undefined) return say(refusal);
    if (state.moderation.banOfName(args, at) !== undefined) return answer(text.nameBanned(args)); // a ban holds however the name is taken
    // A registered name is its owner's: this user may take it back only if they gave its password.
    if (named?.registered === true && !state.gavePassword(me.id, args, named.account)) return answer(text.nameRegistered(args));
    return publish({ type: 'renamed', user: me.id, from: me.nick, nick: args, room: me.room, at });
  },
  me: ({ me, args, at }) =>
    args === '' ? usage('me') : publish({ type: 'acted', user: me.id, nick: me.nick, room: me.room, text: args, at }),
  msg: ({ state, me, args, at }) => {
    const [name, message] = firstWord(args);
    if (name === '' || message === '') return usage('msg');
    const to = state.userNamed(name);
    return to === undefined ? noSuchUser(name) : whisper(me, to, message, at);
  },
  reply: ({ state, me, args, at }) => {
    if (args === '') return usage('reply');
    if (me.lastWhisperer === undefined) return say('nobody has sent you a private message');
    const to = state.user(me.lastWhisperer);
    return to === undefined ? say('whoever sent you your last private message has left') : whisper(me, to, args, at);
  },
  away: ({ me, args, at }) => {
    if (length(args) > MAX_AWAY_LENGTH) return tooLong('away reason', MAX_AWAY_LENGTH);
    return publish({ type: 'away', user: me.id, reason: args, at });
  },
  back: ({ me, at }) => (me.away === undefined ? say('you are not away') : publish({ type: 'back', user: me.id, at })),
  ignore: ({ state, me, args, at }) => {
    if (args === '') return listIgnored(state, me);
    if (!isOneWord(args)) return usage('ignore');
    const target = state.userNamed(args);
    if (target === undefined) return noSuchUser(args);
    if (target.id === me.id) return say('you cannot ignore yourself');
    if (state.ignores(me.id, target.id)) return say(`you already ignore ${target.nick}`);
    return publish({ type: 'ignored', user: me.id, target: target.id, targetNick: target.nick, at });
  },
  unignore: ({ state, me, args, at }) => {
    if (!isOneWord(args)) return usage('unignore');
    const target = state.userNamed(args);
    if (target === undefined || !state.ignores(me.id, target.id)) return say(`you are not ignoring ${args}`);
    return publish({ type: 'unignored', user: me.id, target: target.id, targetNick: target.nick, at });
  },
  join: ({ state, me, args, at }) => {
    if (args === '') return usage('join');
    const named = roomName(args);
    if ('problem' in named) return say(named.problem);
    if (named.room === me.room) return say(`you are already in ${me.room}`);
    if (wouldMakeTooManyRooms(state.rooms(), me.room, named.room)) return say(`too many rooms (max ${MAX_ROOMS})`);
    return publish({ type: 'moved', user: me.id, nick: me.nick, from: me.room, room: named.room, at });
  },
  rooms: ({ state }) => {
    const rooms = state.rooms();
    const shown = rooms.slice(0, MAX_LISTED_ROOMS).map(({ room, count }) => `${room} (${count})`);
    return answer(listing('rooms: ', shown, rooms.length, MAX_LISTED_ROOMS));
  },
  topic: ({ state, me, args, at }) => {
    if (args === '') {
      const topic = state.topic(me.room);
      return topic === undefined ? say(`${me.room} has no topic`) : answer(text.topicIs(me.room, topic));
    }
    if (length(args) > MAX_TOPIC_LENGTH) return tooLong('topic', MAX_TOPIC_LENGTH);
    const topic = args === CLEAR ? '' : args; // an empty room with a topic stays: clearing it lets the room go
    if (topic === '' && state.topic(me.room) === undefined) return say(`${me.room} has no topic`);
    // Silent, as a mute is: the muted user reads the line others would, and nothing is set.
    if (state.isMuted(me.id, at)) return answer(topic === '' ? text.topicCleared(me.nick) : text.topicSet(me.nick, topic));
    return publish({ type: 'topic', user: me.id, nick: me.nick, room: me.room, topic, at });
  },
  whois: ({ state, me, args, at }) => {
    if (!isOneWord(args)) return usage('whois');
    const user = state.userNamed(args);
    if (user === undefined) return noSuchUser(args);
    // A fingerprint shown to all would let a user be followed across servers.
    const key = user.id === me.id || state.isOperator(me.id) ? state.loginKeyOf(user.id) : undefined;
    return say(key === undefined ? whois(user, at) : `${whois(user, at)}, logged in with key ${key}`);
  },
  uptime: ({ state, at }) => say(`up for ${duration(at - state.startedAt)}, since ${new Date(state.startedAt).toISOString()}`),
  ...ACCOUNT_HANDLERS,
  quit: () => ({ events: [], replies: [text.GOODBYE], quit: true }),
  motd,
  ...MODERATION_HANDLERS,
};

/**
 * True when moving from `from` to a new room `to` would pass MAX_ROOMS with rooms that have
 * someone in them (an empty room makes space); the room the move empties makes space too.
 */
function wouldMakeTooManyRooms(rooms: readonly RoomSummary[], from: string, to: string): boolean {
  const occupied = rooms.filter(({ count }) => count > 0);
  if (occupied.length < MAX_ROOMS || rooms.some(({ room }) => room === to)) return false;
  return occupied.find(({ room }) => room === from)?.count !== 1;
}

function whisper(me: User, to: User, message: string, at: number): Decision {
  if (to.id === me.id) return say('you cannot send a private message to yourself');
  return publish({ type: 'whispered', user: me.id, nick: me.nick, to: to.id, toNick: to.nick, text: message, at });
}

function listIgnored(state: ChatState, me: User): Decision {
  const ignored = state.ignoredBy(me.id); // of users online: a departure ends every ignore of them
  if (ignored.length === 0) return say('you are ignoring nobody');
  const nicks = ignored.slice(0, MAX_LISTED_NAMES).flatMap((id) => state.user(id)?.nick ?? []);
  return answer(listing('you are ignoring ', nicks, ignored.length, MAX_LISTED_NAMES));
}

function whois(user: User, now: number): string {
  const away = user.away === undefined ? '' : `, ${text.awayMark(user.away)}`;
  return `${user.nick}: in ${user.room}${away}, connected for ${duration(now - user.connectedAt)}, idle for ${duration(now - user.activeAt)}`;
}
