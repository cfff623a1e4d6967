import { type AccountRequest, passwordProblem } from './accounts';
import { COMMANDS, type CommandName, firstWord, readLine, usageOf } from './commands';
import { type ChatEvent, MAIN_ROOM, type UserId } from './events';
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
  | { readonly type: 'login'; readonly user: UserId; readonly name: string; readonly at: number }
  | { readonly type: 'line'; readonly user: UserId; readonly text: string; readonly at: number }
  | { readonly type: 'leave'; readonly user: UserId; readonly at: number };

/** What follows from an intent: events for the bus, replies for the user alone, whether to end. */
export interface Decision {
  readonly events: readonly ChatEvent[];
  /** Texts for the user alone, sent before anything the events render. */
  readonly replies: readonly string[];
  /** The user asked to leave: the connection closes once the replies are written. */
  readonly quit: boolean;
  /** A change to the user's registered name, for the session to carry out: it holds a
   * password, so it is never an event. */
  readonly account?: AccountRequest;
}

const NOTHING: Decision = { events: [], replies: [], quit: false };
const publish = (...events: ChatEvent[]): Decision => ({ events, replies: [], quit: false });
const answer = (...replies: string[]): Decision => ({ events: [], replies, quit: false });
const say = (line: string): Decision => answer(text.reply(line));
const ask = (account: AccountRequest): Decision => ({ events: [], replies: [], quit: false, account });

/** Decides, from the state and an intent, what happens. Pure: same state and intent, same answer. */
export function decide(state: ChatState, intent: Intent): Decision {
  if (intent.type === 'login') return logIn(state, intent.user, intent.name, intent.at);
  const me = state.user(intent.user);
  if (me === undefined) return NOTHING; // not logged in, or already gone
  if (intent.type === 'leave') return publish({ type: 'left', user: me.id, nick: me.nick, room: me.room, at: intent.at });
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

function logIn(state: ChatState, user: UserId, typed: string, at: number): Decision {
  const nick = typed.trim();
  const refusal = nameRefusal(state, nick);
  if (refusal !== undefined) return answer(text.nameRefused(refusal), text.PROMPT);
  return publish({ type: 'joined', user, nick, room: MAIN_ROOM, at });
}

interface Context {
  readonly state: ChatState;
  readonly me: User;
  readonly args: string;
  readonly at: number;
}

const usage = (name: CommandName): Decision => say(`usage: ${usageOf(name)}`);
const noSuchUser = (name: string): Decision => say(`no such user: ${name}`);
const tooLong = (what: string, max: number): Decision => say(`${what} too long (max ${max} characters)`);
const length = (value: string): number => [...value].length;

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

/** `1h 2m 3s`, `4m 0s`, `5s`: the largest units that are not zero, down to seconds. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: [number, string][] = [[Math.floor(seconds / 86400), 'd'], [Math.floor(seconds / 3600) % 24, 'h'], [Math.floor(seconds / 60) % 60, 'm'], [seconds % 60, 's']];
  const first = units.findIndex(([value]) => value > 0);
  return units.slice(first === -1 ? units.length - 1 : first).map(([value, unit]) => `${value}${unit}`).join(' ');
}
