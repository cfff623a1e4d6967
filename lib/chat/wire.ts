/**
 * What a node accepts from the bus, beyond the shape `isChatEvent` checks: every field within the
 * bounds typed input has (name and room rules, lengths, no control characters). Whoever can write
 * to Redis can put any entry on the stream; one that no chatd node could have made is skipped.
 */

import { MAX_AWAY_LENGTH, MAX_TOPIC_LENGTH } from './decide';
import { length } from './decision';
import type { Ban, ChatEvent, HistoryEvent, RosterUser, StateData, UserData } from './events';
import { MAX_MOTD_LENGTH, MAX_REASON_LENGTH } from './operator-commands';
import { nameProblem } from './names';
import { roomName } from './rooms';
import { cleanText } from './sanitize';
import { utf8Bytes } from './state';

/** The limits of the node reading the bus that are set by flags, so a cluster's nodes must share them. */
export interface WireLimits {
  /** The longest line a user may send, in bytes: no chat text on the bus is longer. */
  readonly maxLineBytes: number;
}

/** The longest user id, node id, address or name key a node takes from the bus, in characters. */
export const MAX_WIRE_ID_LENGTH = 128;
/** The users a roster may list: a node serves no more connections than this at once (`--max-clients` is lower). */
export const MAX_ROSTER_USERS = 1_000_000;

const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * Names and rooms that passed, remembered (each set up to this many): every line on the bus
 * carries its sender's name and room, and their rules take a microsecond a line.
 */
export const NAMES_REMEMBERED = 10_000;

/** `check`, its passes remembered in `passed`: a cache of a pure function's answers, which any order of calls gives alike. */
const remembering = (passed: Set<string>, check: (value: string) => string | undefined) => (value: string): string | undefined => {
  if (passed.has(value)) return undefined;
  const problem = check(value);
  if (problem !== undefined) return problem;
  if (passed.size >= NAMES_REMEMBERED) passed.clear();
  passed.add(value);
  return undefined;
};

const nameRule = remembering(new Set(), nameProblem);
const roomRule = remembering(new Set(), (room) => {
  const named = roomName(room);
  return 'room' in named && named.room === room ? undefined : 'not a room name';
});

/** Why a name from the bus is not one a user could hold, or undefined. */
const badName = (what: string, name: string): string | undefined => {
  const problem = nameRule(name);
  return problem === undefined ? undefined : `${what}: ${problem}`;
};

const badRoom = (what: string, room: string): string | undefined => (roomRule(room) === undefined ? undefined : `${what} is not a room name`);

/** Text a user typed: cleaned as the session cleans it, and at most `max` characters. */
const badText = (what: string, text: string, max: number): string | undefined => {
  if (cleanText(text) !== text) return `${what} holds control characters`;
  return length(text) > max ? `${what} is longer than ${max} characters` : undefined;
};

const badLine = (what: string, text: string, limits: WireLimits): string | undefined => {
  if (cleanText(text) !== text) return `${what} holds control characters`;
  // A UTF-16 unit is at most three bytes of UTF-8: a short line needs no encoding to pass.
  return text.length * 3 > limits.maxLineBytes && utf8Bytes(text) > limits.maxLineBytes
    ? `${what} is longer than ${limits.maxLineBytes} bytes`
    : undefined;
};

/** An id, a node, an address or a name key: not typed as such, but shown in logs and kept. */
const badId = (what: string, id: string): string | undefined =>
  id.length > MAX_WIRE_ID_LENGTH || CONTROL.test(id) ? `${what} is not an id` : undefined;

const badTime = (what: string, at: number): string | undefined => (Number.isFinite(at) ? undefined : `${what} is not a time`);

/** Why a message of the day, from the bus or a store, is not one an operator could have set, or undefined. */
export const motdProblem = (motd: string): string | undefined => badText('motd', motd, MAX_MOTD_LENGTH);

/** Why an account's name, read from a store, is not one a user could have registered, or undefined. */
export const accountNameProblem = (name: string): string | undefined => badName('name', name);

const first = (...problems: (string | undefined)[]): string | undefined => problems.find((problem) => problem !== undefined);

/** Why a ban, from the bus or a store, is not one an operator could have made, or undefined. */
export const banProblem = ({ name, address, by, reason, until }: Ban): string | undefined =>
  first(badName('ban name', name), badId('ban address', address), badName('ban by', by), badText('ban reason', reason, MAX_REASON_LENGTH),
    until === null ? undefined : badTime('ban until', until));

const badRosterUser = (user: RosterUser): string | undefined =>
  first(badId('user', user.id), badName('nick', user.nick), badRoom('room', user.room), badTime('connectedAt', user.connectedAt),
    user.from === undefined ? undefined : badId('from', user.from), user.identified === undefined ? undefined : badId('identified', user.identified),
    user.account === undefined ? undefined : badId('account', user.account));

/** Why `event`, read from the bus, is not one a chatd node makes, or undefined when it may be. */
export function eventProblem(event: ChatEvent, limits: WireLimits): string | undefined {
  const common = first('user' in event ? badId('user', event.user) : undefined, 'nick' in event ? badName('nick', event.nick) : undefined,
    'room' in event ? badRoom('room', event.room) : undefined, badTime('at', event.at));
  return common ?? fieldsProblem(event, limits);
}

function fieldsProblem(event: ChatEvent, limits: WireLimits): string | undefined {
  switch (event.type) {
    case 'joined': return event.from === undefined ? undefined : badId('from', event.from);
    case 'said': case 'acted': return badLine('text', event.text, limits);
    case 'renamed': return badName('from', event.from);
    case 'resumed': return first(badId('replaced', event.replaced), event.from === undefined ? undefined : badId('from', event.from));
    case 'identified': return event.account === undefined ? undefined : badId('account', event.account);
    case 'moved': return badRoom('from', event.from);
    case 'whispered': return first(badId('to', event.to), badName('toNick', event.toNick), badLine('text', event.text, limits));
    case 'away': return badText('reason', event.reason, MAX_AWAY_LENGTH);
    case 'ignored': case 'unignored': return first(badId('target', event.target), badName('targetNick', event.targetNick));
    case 'topic': return badText('topic', event.topic, MAX_TOPIC_LENGTH);
    case 'node-lost': return badId('node', event.node);
    case 'roster':
      if (event.users.length > MAX_ROSTER_USERS) return `roster lists more than ${MAX_ROSTER_USERS} users`;
      return first(badId('node', event.node), ...event.users.map(badRosterUser));
    case 'opped': return first(badName('name', event.name), event.account === undefined ? undefined : badId('account', event.account));
    case 'deopped': case 'unmuted': return badName('name', event.name);
    case 'muted': return first(badName('name', event.name), badTime('until', event.until));
    case 'kicked': return first(badId('target', event.target), badName('targetNick', event.targetNick), badText('reason', event.reason, MAX_REASON_LENGTH));
    case 'banned': return banProblem(event.ban);
    case 'unbanned': return badId('target', event.target);
    case 'motd': return motdProblem(event.text);
    default: return undefined;
  }
}

const badUser = (user: UserData): string | undefined =>
  first(badId('user', user.id), badName('nick', user.nick), badRoom('room', user.room), badId('from', user.from),
    user.away === null ? undefined : badText('away', user.away, MAX_AWAY_LENGTH), user.identified === null ? undefined : badId('identified', user.identified),
    user.lastWhisperer === null ? undefined : badId('lastWhisperer', user.lastWhisperer), ...user.ignores.map((id) => badId('ignores', id)),
    user.account === undefined || user.account === null ? undefined : badId('account', user.account));

/** Why a snapshot read from Redis is not a state chatd nodes could hold, or undefined when it may be. */
export function stateProblem(data: StateData, limits: WireLimits): string | undefined {
  for (const user of data.users) {
    const problem = badUser(user);
    if (problem !== undefined) return `user ${user.id.slice(0, MAX_WIRE_ID_LENGTH)}: ${problem}`;
  }
  for (const room of data.rooms) {
    const problem = first(badRoom('room', room.room), room.topic === null ? undefined : badText('topic', room.topic, MAX_TOPIC_LENGTH))
      ?? historyProblem(room.history, limits);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** Why a room's history read from Redis holds a line no user could have said, or undefined. */
export function historyProblem(history: readonly HistoryEvent[], limits: WireLimits): string | undefined {
  for (const line of history) {
    const problem = eventProblem(line, limits);
    if (problem !== undefined) return `history: ${problem}`;
  }
  return undefined;
}
