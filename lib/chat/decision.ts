import type { AccountRequest } from './accounts';
import { type CommandName, usageOf } from './commands';
import type { ChatEvent } from './events';
import type { Intent, Tries } from './intent';
import type { ChatState, User } from './state';
import * as text from './texts';

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
  /** The name is banned: the connection closes once the replies are written. */
  readonly banned?: true;
  /** The name whose password this connection's next line is: it was asked for it. */
  readonly password?: string;
  /** What the connection has tried, as it now is: its session keeps it for its next intent. */
  readonly tries?: Tries;
  /** The connection closes once the replies are written: too many refused usernames or password
   * tries (`login_limit`, `wrong_password`), or a password answered past the login deadline. */
  readonly close?: 'login_limit' | 'wrong_password' | 'login_timeout';
  /** An operator asked for the server's figures, which only the edge knows. */
  readonly stats?: true;
}

/** A command as its handler sees it: the state, its sender, its arguments, when, and the line's intent. */
export interface Context {
  readonly state: ChatState;
  readonly me: User;
  readonly args: string;
  readonly at: number;
  readonly intent: Extract<Intent, { readonly type: 'line' }>;
}

export const NOTHING: Decision = { events: [], replies: [], quit: false };
export const publish = (...events: ChatEvent[]): Decision => ({ events, replies: [], quit: false });
export const answer = (...replies: string[]): Decision => ({ events: [], replies, quit: false });
export const say = (line: string): Decision => answer(text.reply(line));
export const usage = (name: CommandName): Decision => say(`usage: ${usageOf(name)}`);
export const noSuchUser = (name: string): Decision => say(`no such user: ${name}`);
export const tooLong = (what: string, max: number): Decision => say(`${what} too long (max ${max} characters)`);
/** True for a single word, as a name or an address is: `ann extra` is a usage mistake, not a name. */
export const isOneWord = (args: string): boolean => args !== '' && !/\s/u.test(args);
/** Length in characters, not UTF-16 units. */
export const length = (value: string): number => [...value].length;
