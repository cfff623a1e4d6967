import { type AccountRequest, passwordProblem } from './accounts';
import { COMMANDS, firstWord, readLine, usageOf, type CommandName } from './commands';
import { answer, type Context, type Decision, isOneWord, length, noSuchUser, NOTHING, publish, say, tooLong, usage } from './decision';
import { duration } from './durations';
import { listing, MAX_LISTED_NAMES, MAX_LISTED_ROOMS } from './listing';
import { type ChatEvent, MAIN_ROOM, type UserId } from './events';
import { CLEAR, MODERATION_HANDLERS, motd } from './operator-commands';
import { nameKey, nameProblem } from './names';
import { freeVariant } from './roster';
import { roomName } from './rooms';
import { type ChatState, MAX_ROOMS, type RoomSummary, type User } from './state';
import * as text from './texts';

/** The longest topic, in characters. */
export const MAX_TOPIC_LENGTH = 200;
/** The longest away reason, in characters. */
export const MAX_AWAY_LENGTH = 200;

/** What a user asks of the chat. Lines are cleaned, not blank, and paced before they get here. */
export type Intent =
  | {
      readonly type: 'login';
      readonly user: UserId;
      readonly name: string;
      readonly at: number;
      readonly from?: string;
      /** The name is registered now: it needs its password. */
      readonly registered?: boolean;
      /** The id of the account whose password this connection gave for `name`: absent until it did. */
      readonly account?: string;
    }
  | { readonly type: 'line'; readonly user: UserId; readonly text: string; readonly at: number }
  | { readonly type: 'leave'; readonly user: UserId; readonly at: number };

export type { Decision } from './decision';
export { duration } from './durations';

/** `/help`'s column of usages: as wide as the widest, so that every description lines up. */
const HELP_USAGE_WIDTH = Math.max(...COMMANDS.map((command) => usageOf(command.name).length));

const ask = (account: AccountRequest): Decision => ({ events: [], replies: [], quit: false, account });

/** Decides, from the state and an intent, what happens. Pure: same state and intent, same answer. */
export function decide(state: ChatState, intent: Intent): Decision {
  if (intent.type === 'login') return logIn(state, intent);
  const me = state.user(intent.user);
  if (me === undefined) return NOTHING; // not logged in, or already gone
  if (intent.type === 'leave') return publish({ type: 'left', user: me.id, nick: me.nick, room: me.room, at: intent.at });
  if (state.isKicked(me.id)) return NOTHING; // their connection is closing
  const typed = readLine(intent.text);
  switch (typed.kind) {
    case 'chat': return publish({ type: 'said', user: me.id, nick: me.nick, room: me.room, text: typed.text, at: intent.at });
    case 'unknown': return say(`unknown command /${typed.name} (try /help)`);
    case 'command': return COMMAND_HANDLERS[typed.name]({ state, me, args: typed.args, at: intent.at });
  }
}

/**
 * Why `name` cannot be `me`'s (or a newcomer's) name now, or undefined when it can. A name that
 * passes for someone's online is "taken" before any rule it breaks (`bоb` with a Cyrillic о
 * mixes scripts too): the user learns which name it passes for.
 */
function nameRefusal(state: ChatState, name: string, me?: UserId): string | undefined {
  const holder = state.userNamed(name);
  return holder !== undefined && holder.id !== me ? `username ${holder.nick} is taken` : nameProblem(name);
}

type Login = Extract<Intent, { readonly type: 'login' }>;

const BANNED: Decision = { ...answer(text.YOU_ARE_BANNED), banned: true };

/**
 * A banned name (or lookalike) is told so and closed, before it could be asked a password. A
 * registered name is asked its password first, held by an open connection or not: whoever gives
 * it takes the name over from a connection that gave it too (the same owner, back on a new
 * connection), or from one that holds it without it, or with an account's since unregistered
 * (renamed, and told). An unregistered name that someone holds is taken: nothing proves who is who.
 */
function logIn(state: ChatState, login: Login): Decision {
  const { name, at, registered = false, account } = login;
  const nick = name.trim();
  const holder = state.userNamed(nick);
  const refusal = holder === undefined || !registered ? nameRefusal(state, nick) : nameProblem(nick); // held and registered: its owner may take it
  if (refusal !== undefined) return answer(text.nameRefused(refusal), text.PROMPT);
  if (state.moderation.banOfName(nick, at) !== undefined) return BANNED;
  if (addressBarred(state, login, nick)) return BANNED;
  if (registered && account === undefined) return { ...NOTHING, password: nick };
  if (holder === undefined) return publish(joined(login, nick));
  return isSameOwner(state, holder, account) ? publish(resumed(login, holder)) : publish(displaced(state, holder, at), joined(login, nick));
}

/** True when `holder` gave the password of the account `account` is (or, from an older node, of the name). */
function isSameOwner(state: ChatState, holder: User, account: string | undefined): boolean {
  if (!state.isIdentified(holder.id)) return false;
  const held = state.accountOf(holder.id);
  return held === undefined || held === account;
}

/**
 * An address ban refuses every login from the address but an operator's, who may give their
 * password: an operator who shares an address with someone banned (one NAT) is not locked out.
 */
function addressBarred(state: ChatState, { from = '', at, registered = false, account }: Login, nick: string): boolean {
  if (state.moderation.banOfAddress(from, at) === undefined) return false;
  if (!registered || !state.moderation.isOpName(nick)) return true;
  return account !== undefined && !state.moderation.isOpAccount(nick, account);
}

const joined = ({ user, at, from }: Login, nick: string): ChatEvent =>
  ({ type: 'joined', user, nick, room: MAIN_ROOM, at, ...(from === undefined ? {} : { from }) });

/** The owner of a registered name, back on a new connection, goes on where the old one was. */
const resumed = ({ user, at, from }: Login, holder: User): ChatEvent =>
  ({ type: 'resumed', user, replaced: holder.id, nick: holder.nick, at, ...(from === undefined ? {} : { from }) });

/** Whoever holds a registered name without its password gives it up to its owner, for a free variant. */
const displaced = (state: ChatState, holder: User, at: number): ChatEvent =>
  ({ type: 'renamed', user: holder.id, from: holder.nick, nick: freeVariant(state, holder.nick), room: holder.room, at, displaced: true, owner: true });

const COMMAND_HANDLERS: Record<CommandName, (context: Context) => Decision> = {
  help: () => answer(...COMMANDS.map((command) => text.reply(`${usageOf(command.name).padEnd(HELP_USAGE_WIDTH)} ${command.help}`))),
  who: ({ state, me }) => {
    const count = state.headcount(me.room);
    const members = state.members(me.room, MAX_LISTED_NAMES).map((user) => (user.away === undefined ? user.nick : `${user.nick} (${text.awayMark(user.away)})`));
    return answer(listing(`${count} in ${me.room}: `, members, count, MAX_LISTED_NAMES));
  },
  nick: ({ state, me, args, at }) => {
    if (args === '') return usage('nick');
    if (args === me.nick) return say(`you are already ${me.nick}`);
    const refusal = nameRefusal(state, args, me.id);
    if (refusal !== undefined) return say(refusal);
    if (state.moderation.banOfName(args, at) !== undefined) return answer(text.nameBanned(args)); // a ban holds however the name is taken
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
  whois: ({ state, args, at }) => {
    if (!isOneWord(args)) return usage('whois');
    const user = state.userNamed(args);
    return user === undefined ? noSuchUser(args) : say(whois(user, at));
  },
  uptime: ({ state, at }) => say(`up for ${duration(at - state.startedAt)}, since ${new Date(state.startedAt).toISOString()}`),
  register: ({ me, args }) => {
    if (args === '') return usage('register');
    return passwordIssue(args) ?? ask({ kind: 'register', name: me.nick, password: args });
  },
  password: ({ me, args }) => {
    const [password, newPassword] = firstWord(args);
    if (password === '' || newPassword === '') return usage('password');
    return passwordIssue(newPassword) ?? ask({ kind: 'password', name: me.nick, password, newPassword });
  },
  unregister: ({ state, me, args }) => {
    if (args === '') return usage('unregister');
    if (!state.isOperator(me.id)) return ask({ kind: 'unregister', name: me.nick, password: args });
    // An operator's word may be a name to release, which only the registry can tell (unregisterRequest).
    if (nameKey(args) !== nameKey(me.nick) && state.moderation.isOpName(args)) return say(`${args} is an operator's name: /deop it first`);
    return ask({ kind: 'unregister', name: me.nick, password: args, byOperator: true });
  },
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

/** A refusal of a new password that breaks the rules, or undefined. */
function passwordIssue(password: string): Decision | undefined {
  const problem = passwordProblem(password);
  return problem === undefined ? undefined : say(problem);
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
