import type { AccountOutcome, AccountRequest, Verdict } from './accounts';
import type { UserId } from './events';

/**
 * What a connection has done so far that a login or account rule counts: kept by its session as
 * plain data, carried in each of its intents, and given back by `decide` as it now is.
 */
export interface Tries {
  /** Usernames refused so far. */
  readonly refusals: number;
  /** Wrong passwords so far, and passwords not checked (too many checks at once), counted apart:
   * others' guesses at a name must not use up its owner's tries. */
  readonly wrong: number;
  readonly unchecked: number;
  /** Told once already that passwords cross this plain connection in clear. */
  readonly warned: boolean;
  /** The key of the name whose password this connection gave at login: its login, if it did not
   * apply (the name was claimed first elsewhere), takes the name again. */
  readonly proved?: string;
}

export const NO_TRIES: Tries = { refusals: 0, wrong: 0, unchecked: 0, warned: false };

/** The chat's rules for every connection, from its options: one object that all sessions share. */
export interface ConnectionRules {
  /** The usernames a connection may have refused; at the last, it is closed. */
  readonly maxNameAttempts: number;
  /** Refuse passwords (registered names, `/register`) over plain connections. */
  readonly requireTlsForPasswords: boolean;
}

/** Who asks, as far as a rule needs to know: whether their connection is encrypted, and what it tried. */
export interface Caller {
  readonly secure: boolean;
  readonly rules: ConnectionRules;
  readonly tries: Tries;
  /** Fingerprints of the public keys its door verified (SSH), in the order offered; absent when none. */
  readonly keys?: readonly string[];
}

/** What a registered name is now, as the accounts driver answers it: the loop adds it to an intent before deciding (absent: not registered). */
export interface NameFacts {
  readonly registered: boolean;
  /** The id of the account registered as the name (see AccountRecord.id), when one is. */
  readonly account?: string;
  /** The fingerprint, among the caller's keys, tied to the name's account: it opens the name without its password. */
  readonly key?: string;
  /** Every fingerprint tied to the name's account (asked for `/keys`). */
  readonly keys?: readonly string[];
}

export const UNREGISTERED: NameFacts = { registered: false };

type Login = {
  readonly type: 'login';
  readonly user: UserId;
  readonly name: string;
  readonly at: number;
  readonly from?: string;
  /** The name is registered now: it needs its password. */
  readonly registered?: boolean;
  /** The id of the account whose password this connection gave for `name`: absent until it did. */
  readonly account?: string;
  /** What the name is now, when one of the caller's keys is tied to it (`facts.key`): the key stands for its password. */
  readonly keyed?: NameFacts;
  readonly caller: Caller;
};

/** What a user asks of the chat, or what came back for them. Lines are cleaned, not blank, and paced before they get here. */
export type Intent =
  | Login
  /** A username too long to be read. */
  | { readonly type: 'overlong-name'; readonly user: UserId; readonly at: number; readonly caller: Caller }
  /** The answer to the password this connection gave for `name`; `late`: given before the login deadline, answered after it. */
  | {
      readonly type: 'password-checked';
      readonly user: UserId;
      readonly name: string;
      readonly verdict: Verdict;
      readonly at: number;
      readonly from?: string;
      readonly facts?: NameFacts;
      readonly caller: Caller;
      readonly late: boolean;
    }
  /**
   * A logged-in user's line. `named`: what the name the line names is (`nameAskedBy`), when it
   * names one; `caller`: absent, the connection is encrypted and has tried nothing; `busy`: an
   * account change of this connection's is under way.
   */
  | {
      readonly type: 'line';
      readonly user: UserId;
      readonly text: string;
      readonly at: number;
      readonly named?: NameFacts;
      readonly caller?: Caller;
      readonly busy?: boolean;
    }
  /**
   * A login this connection was let in with did not apply once back from the bus: its name was
   * claimed first elsewhere. `facts`: what the name is now.
   */
  | { readonly type: 'login-unapplied'; readonly user: UserId; readonly name: string; readonly at: number; readonly from?: string; readonly facts?: NameFacts; readonly caller: Caller; readonly late: boolean }
  /** How an account change this user asked for ended; `facts`: what its name is now. */
  | { readonly type: 'account-changed'; readonly user: UserId; readonly request: AccountRequest; readonly outcome: AccountOutcome; readonly facts?: NameFacts; readonly at: number }
  | { readonly type: 'leave'; readonly user: UserId; readonly at: number }
  /**
   * After an outage, or once the registered names were read again whole: what the name this
   * node's user holds is now (`named`), which may have been registered elsewhere meanwhile.
   */
  | { readonly type: 'name-owner'; readonly user: UserId; readonly named: NameFacts; readonly at: number };

export type LoginIntent = Login;
