import { type AccountRequest, passwordProblem } from './accounts';
import { COMMANDS, firstWord, readLine, usageOf, type CommandName } from './commands';
import { answer, type Context, type Decision, length, noSuchUser, NOTHING, publish, say, tooLong, usage } from './decision';
import { duration } from './durations';
import { MAIN_ROOM, type UserId } from './events';
import { MODERATION_HANDLERS, motd } from './moderate';
import { nameProblem } from './names';
import { roomName } from './rooms';
import { type ChatState, MAX_ROOMS, type RoomSummary, type User } from './state';
import * as text from './texts';

/** The longest topic, in characters. */
export const MAX_TOPIC_LENGTH = 200;
/** The longest away reason, in characters. */
export const MAX_AWAY_LENGTH = 200;

/** What a user asks of the chat. Lines are cleaned, not blank, and paced before they get here. */
export type Intent =
  | { readonly type: 'login'; readonly user: UserId; readonly name: string; readonly at: number; readonly from?: string }
  | { readonly type: 'line'; readonly user: UserId; readonly text: string; readonly at: number }
  | { readonly type: 'leave'; readonly user: UserId; readonly at: number };

export type { Decision } from './decision';
export { duration } from './durations';

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

/** A banned name (or lookalike) is told so and closed, before it could be asked a password. */
function logIn(state: ChatState, { user, name, at, from }: Extract<Intent, { readonly type: 'login' }>): Decision {
  const nick = name.trim();
  const refusal = nameRefusal(state, nick);
  if (refusal !== undefined) return answer(text.nameRefused(refusal), text.PROMPT);
  if (state.moderation.banOfName(nick, at) !== undefined) return { ...answer(text.YOU_ARE_BANNED), banned: true };
  return publish({ type: 'joined', user, nick, room: MAIN_ROOM, at, ...(from === undefined ? {} : { from }) });
}

const COMMAND_HANDLERS: Record<CommandName, (context: Context) => Decision> = {
  help: () => answer(...COMMANDS.map((command) => text.reply(`${usageOf(command.name).padEnd(20)} ${command.help}`))),
  who: ({ state, me }) => {
    const members = state.members(me.room).map((user) => (user.away === undefined ? user.nick : `${user.nick} (away: ${user.away})`));
    return say(`${members.length} in ${me.room}: ${members.join(', ')}`);
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
    return publish({ type: 'away', user: me.id, reason: args === '' ? 'away' : args, at });
  },
  back: ({ me, at }) => (me.away === undefined ? say('you are not away') : publish({ type: 'back', user: me.id, at })),
  ignore: ({ state, me, args, at }) => {
    if (args === '') return listIgnored(state, me);
    const target = state.userNamed(args);
    if (target === undefined) return noSuchUser(args);
    if (target.id === me.id) return say('you cannot ignore yourself');
    if (state.ignores(me.id, target.id)) return say(`you already ignore ${target.nick}`);
    return publish({ type: 'ignored', user: me.id, target: target.id, targetNick: target.nick, at });
  },
  unignore: ({ state, me, args, at }) => {
    if (args === '') return usage('unignore');
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
  rooms: ({ state }) => say(`rooms: ${state.rooms().map(({ room, count }) => `${room} (${count})`).join(', ')}`),
  topic: ({ state, me, args, at }) => {
    if (args === '') {
      const topic = state.topic(me.room);
      return topic === undefined ? say(`${me.room} has no topic`) : answer(text.topicIs(me.room, topic));
    }
    if (length(args) > MAX_TOPIC_LENGTH) return tooLong('topic', MAX_TOPIC_LENGTH);
    return publish({ type: 'topic', user: me.id, nick: me.nick, room: me.room, topic: args, at });
  },
  whois: ({ state, args, at }) => {
    if (args === '') return usage('whois');
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
  unregister: ({ me, args }) => (args === '' ? usage('unregister') : ask({ kind: 'unregister', name: me.nick, password: args })),
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
  const nicks = state.ignoredBy(me.id).flatMap((id) => state.user(id)?.nick ?? []);
  return say(nicks.length === 0 ? 'you are ignoring nobody' : `you are ignoring ${nicks.join(', ')}`);
}

function whois(user: User, now: number): string {
  const away = user.away === undefined ? '' : `, away: ${user.away}`;
  return `${user.nick}: in ${user.room}${away}, connected for ${duration(now - user.connectedAt)}, idle for ${duration(now - user.activeAt)}`;
}
