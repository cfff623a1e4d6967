/**
 * Every text chatd sends. Each text carries its own line ending so that the prompt, the one
 * text without a newline, is written byte for byte as the protocol shows it. Replies to one
 * user alone start with `*** `.
 */
import type { AccountOutcome, AccountRequest } from './accounts';
import { termEnd } from './durations';
import { MAIN_ROOM } from './events';

export const DEFAULT_BANNER = "Welcome to Jen's chat server!";

export const PROMPT = 'Please enter your username: ';

/** The first line a connection receives. */
export const greeting = (banner: string): string => `${banner}\n`;

/** Sent to the new user alone, before the join is broadcast. */
export const welcome = (nick: string): string => `Welcome, ${nick}\n`;

/** To a room, the joiner included; in the main room, the seed's line. */
export const joined = (nick: string, room = MAIN_ROOM): string =>
  room === MAIN_ROOM ? `*** ${nick} just joined the chatroom\n` : `*** ${nick} just joined ${room}\n`;

/** To the room, the sender included. */
export const said = (nick: string, text: string): string => `[${nick}] ${text}\n`;

/** `/me`, to the room. */
export const acted = (nick: string, text: string): string => `* ${nick} ${text}\n`;

/** To those who remain, once per user. */
export const left = (nick: string): string => `*** ${nick} has disconnected\n`;

/** To the room a user moved out of. */
export const movedTo = (nick: string, room: string): string => `*** ${nick} moved to ${room}\n`;

export const renamed = (from: string, nick: string): string => `*** ${from} is now known as ${nick}\n`;

export const whisperFrom = (nick: string, text: string): string => `[PM from ${nick}] ${text}\n`;

export const whisperTo = (nick: string, text: string): string => `[PM to ${nick}] ${text}\n`;

/** An away reason after what it explains, or nothing when none was given. */
const awayFor = (reason: string): string => (reason === '' ? '' : `: ${reason}`);

export const isAway = (nick: string, reason: string): string => `*** ${nick} is away${awayFor(reason)}\n`;

export const nowAway = (reason: string): string => `*** you are away${awayFor(reason)}\n`;

/** A user in `/who`, or in `/whois` after their room, with their away reason if they are away. */
export const awayMark = (reason: string | undefined): string => (reason === undefined ? '' : `away${awayFor(reason)}`);

export const NOW_BACK = '*** you are back\n';

export const ignoring = (nick: string): string => `*** you are ignoring ${nick}\n`;

export const unignoring = (nick: string): string => `*** you are no longer ignoring ${nick}\n`;

export const topicSet = (nick: string, topic: string): string => `*** ${nick} set the topic: ${topic}\n`;

export const topicCleared = (nick: string): string => `*** ${nick} cleared the topic\n`;

/** Shown on entering a room that has one, and to `/topic`. */
export const topicIs = (room: string, topic: string): string => `*** topic of ${room}: ${topic}\n`;

/** A one-line answer to the user alone (`/who`, a refusal, a usage line). */
export const reply = (text: string): string => `*** ${text}\n`;

/** The last line of a listing cut short (`/who`, `/rooms`, `/bans`...): how many it left out. */
export const andMore = (count: number): string => `*** ... and ${count} more\n`;

/** Why a username was refused; the prompt follows on the same connection. */
export const nameRefused = (reason: string): string => `*** ${reason}\n`;

/** Sent to the sender of a line over the limit; the line is dropped, the connection stays. */
export const lineTooLong = (maxLineBytes: number): string => `*** line too long (max ${maxLineBytes} bytes)\n`;

export const LOGIN_TIMED_OUT = '*** login timed out\n';

/** A notice that comes unprompted while a prompt waits for its answer: it starts on a line of its own. */
export const besidePrompt = (notice: string): string => `\n${notice}`;

/** After the reason for the last refusal a connection may have; then it is closed. */
export const TOO_MANY_NAME_ATTEMPTS = '*** too many refused usernames\n';

/** To a connection that sent more than it may before logging in; then it is closed. */
export const tooMuchLoginInput = (maxBytes: number): string => `*** too much input before login (max ${maxBytes} bytes)\n`;

/** Sent once per burst when a flooding user's queue is full and lines start being dropped. */
export const SLOW_DOWN = '*** slow down\n';

export const SERVER_FULL = '*** server full\n';

/** To a connection from an address (an IPv6 /64) that already holds the most it may; then it is closed. */
export const tooManyConnections = (max: number): string => `*** too many connections from your address (max ${max})\n`;

/** To a connection from an address that opens connections faster than it may; then it is closed. */
export const CONNECTING_TOO_FAST = '*** too many new connections from your address; try again in a few seconds\n';

export const SHUTTING_DOWN = '*** server shutting down\n';

export const GOODBYE = '*** goodbye\n';

/** Asked, with no newline, after a registered name. */
export const PASSWORD_PROMPT = 'Password: ';

/** Sent once per plain connection, before its first password. */
export const PASSWORD_IN_CLEAR = '*** warning: this connection is not encrypted; your password crosses the network in clear\n';

/** A registered name given over a plain connection where passwords need TLS; the prompt follows. */
export const nameNeedsTls = (nick: string): string => `*** ${nick} is registered; its password is accepted over TLS only\n`;

export const PASSWORDS_NEED_TLS = '*** passwords are accepted over TLS only\n';

export const WRONG_PASSWORD = '*** wrong password\n';

/** To a user whose password could not be checked (the store or the hash failed); they are asked for a username again. */
export const CHECK_FAILED = '*** could not check your password, try again later\n';

/** To the owner of an account that lost its name to an older lookalike when chatd came to see them as one name. */
export const nameDisplaced = (nick: string): string =>
  `*** ${nick} was registered to you, but now counts as the same name as one registered before it, which keeps it; pick another name\n`;

/** A password not checked now: too many checks at once from the address or of the name. */
export const PASSWORD_UNCHECKED = '*** too many password tries at once; yours was not checked, try again in a few seconds\n';

/** After the last password try a connection may make (MAX_PASSWORD_TRIES wrong, or MAX_UNCHECKED_TRIES not checked); then it is closed. */
export const TOO_MANY_PASSWORD_TRIES = '*** too many password tries; closing the connection\n';

/** `/nick` to a name registered by someone else. */
export const nameRegistered = (nick: string): string => `*** username ${nick} is registered\n`;

/** A second account change while one is under way. */
export const ACCOUNT_BUSY = '*** your last account change is not done yet\n';

/** How `/register`, `/password` or `/unregister` of `name` ended. */
export function accountOutcome(kind: AccountRequest['kind'], outcome: AccountOutcome, name: string): string {
  if (outcome === 'wrong-password') return WRONG_PASSWORD;
  if (outcome === 'unchecked') return PASSWORD_UNCHECKED;
  if (outcome === 'not-registered') return `*** ${name} is not registered\n`;
  if (outcome === 'taken') return `*** ${name} is already registered\n`;
  if (outcome === 'limited') return '*** too many names registered from your address this hour; try again later\n';
  if (outcome === 'failed') return '*** could not save that; try again later\n';
  if (kind === 'register') return `*** ${name} is registered to you; logging in with it will ask for your password\n`;
  return kind === 'password' ? '*** password changed\n' : `*** ${name} is no longer registered\n`;
}

/** To a user whose login a key of theirs (SSH) opened, instead of the name's password. */
export const keyOpened = (key: string): string => `*** logged in with your key ${key}\n`;

/** To a user whose /register tied their connection's key to the name. */
export const keyTied = (key: string, name: string): string => `*** your key ${key} opens ${name} over SSH without the password\n`;

/** To a user whose client offered several keys: the first is the one a change ties. */
export const firstOfKeys = (key: string, offered: number): string => `*** your client offered ${offered} keys; the first, ${key}, is the one tied\n`;

/** How `/keys add` or `/keys remove` ended. */
export function keyOutcome(kind: 'add-key' | 'remove-key', outcome: AccountOutcome, key: string, name: string): string {
  if (outcome === 'done') return kind === 'add-key' ? `*** your key ${key} now opens ${name}\n` : `*** key ${key} no longer opens ${name}\n`;
  return accountOutcome(kind, outcome, name);
}

/** To every user of a node that lost the bus to the other nodes. */
export const BUS_DOWN = "*** the other servers are out of reach; you are chatting with this server's users only\n";

/** To every user of a node whose bus is back. */
export const BUS_UP = '*** the other servers are back; this is one chat again\n';

/** To an operator whose /op, /deop, /ban, /unban or /motd TEXT came while the other servers were out of reach. */
export const NOT_SAVED_APART = '*** not saved, nothing changed: the other servers are out of reach; try again once they are back\n';

/** To an operator whose change every server holds, but which could not be saved. */
export const NOT_SAVED = '*** done, but not saved: it will not outlast a restart\n';

/** To a user whose name another server's user, logged in earlier, took while the servers were apart. */
export const renamedOnReturn = (was: string, nick: string): string => `*** username ${was} was taken on another server meanwhile; you are now ${nick}\n`;

/** To a connection whose user logged in again, with their password, on another one; then it closes. */
export const LOGGED_IN_ELSEWHERE = '*** you logged in elsewhere\n';

/** To a user who held a registered name without its password when its owner logged in with it. */
export const nameClaimedByOwner = (was: string, nick: string): string => `*** ${was} is registered and its owner logged in with its password; you are now ${nick}\n`;

/** After `Welcome, NAME`, to a user who took their name over from another connection of theirs. */
export const tookOver = (room: string): string => `*** your other connection was closed; you go on in ${room}\n`;

/** A banned address or a banned name at login; the connection closes. */
export const YOU_ARE_BANNED = '*** you are banned\n';

/** `/nick` to a banned name (or a lookalike of one). */
export const nameBanned = (nick: string): string => `*** username ${nick} is banned\n`;

/** Once a user gives the password of an operator's name. */
export const YOU_ARE_AN_OPERATOR = '*** you are an operator\n';

/** To an operator whose `/nick` took them off the name that makes them one. */
export const notOperatorAs = (nick: string, was: string): string => `*** you are not an operator as ${nick}; as ${was} you are one again\n`;

/** The message of the day, after `Welcome, NAME`. */
export const motdLine = (text: string): string => `*** MOTD: ${text}\n`;

/** An operator command from a user who is not one: the one line they get. */
export const operatorsOnly = (command: string): string => `*** only operators may use /${command}\n`;

export const madeOperator = (by: string): string => `*** ${by} made you an operator\n`;

export const nowOperator = (name: string): string => `*** ${name} is now an operator\n`;

export const unmadeOperator = (by: string): string => `*** ${by} took back your operator status\n`;

export const noLongerOperator = (name: string): string => `*** ${name} is no longer an operator\n`;

const because = (reason: string): string => (reason === '' ? '' : `: ${reason}`);

/** To the kicked user's room, and to the operator wherever they are. */
export const kicked = (nick: string, by: string, reason: string): string => `*** ${nick} was kicked by ${by}${because(reason)}\n`;

/** To the kicked user, before their connection closes. */
export const youWereKicked = (by: string, reason: string): string => `*** you were kicked by ${by}${because(reason)}\n`;

/** To the banned user's room. */
export const bannedFromRoom = (nick: string, by: string, reason: string): string => `*** ${nick} was banned by ${by}${because(reason)}\n`;

/** A ban as the operator who made it and `/bans` show it. */
export const ban = (name: string, address: string, until: number | null, by: string, reason: string): string =>
  `*** ${name}${address === '' ? '' : ` (${address})`} is banned ${termEnd(until)} by ${by}${because(reason)}\n`;

export const NO_BANS = '*** there are no bans\n';

export const unbanned = (target: string): string => `*** ${target} is no longer banned\n`;

/** To the operator alone: the muted user is not told. */
export const muted = (name: string, until: number): string => `*** ${name} is muted until ${new Date(until).toISOString()}: their lines reach only them\n`;

export const unmuted = (name: string): string => `*** ${name} is no longer muted\n`;

export const MOTD_SET = '*** message of the day set\n';

export const MOTD_CLEARED = '*** message of the day cleared\n';

export const NO_MOTD = '*** there is no message of the day\n';
