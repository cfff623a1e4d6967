import { MAX_PASSWORD_TRIES, MAX_UNCHECKED_TRIES } from './accounts';
import { answer, type Decision, publish } from './decision';
import { type ChatEvent, MAIN_ROOM } from './events';
import { type Caller, type Intent, type LoginIntent, type NameFacts, UNREGISTERED } from './intent';
import { MAX_NAME_LENGTH, nameKey, nameProblem } from './names';
import { freeVariant } from './roster';
import type { ChatState, User } from './state';
import * as text from './texts';

type PasswordChecked = Extract<Intent, { readonly type: 'password-checked' }>;
type LoginUnapplied = Extract<Intent, { readonly type: 'login-unapplied' }>;

const BANNED: Decision = { ...answer(text.YOU_ARE_BANNED), banned: true };

/** Why `name` cannot be taken by `me` (or by a newcomer): held by another user, or not valid; undefined if it can. */
export function nameRefusal(state: ChatState, name: string, me?: string): string | undefined {
  const holder = state.userNamed(name);
  return holder !== undefined && holder.id !== me ? `username ${holder.nick} is taken` : nameProblem(name);
}

/**
 * A refused username: the reason and the prompt again, or at the connection's last attempt
 * (ConnectionRules.maxNameAttempts) the reason and the close.
 */
export function refusal({ rules, tries }: Caller, why: string): Decision {
  const refusals = tries.refusals + 1;
  if (refusals < rules.maxNameAttempts) return { ...answer(why, text.PROMPT), tries: { ...tries, refusals } };
  return { ...answer(why, text.TOO_MANY_NAME_ATTEMPTS), tries: { ...tries, refusals }, close: 'login_limit' };
}

/** A username too long to be read is refused as any other. */
export const overlongName = (caller: Caller): Decision =>
  refusal(caller, text.nameRefused(`username too long (max ${MAX_NAME_LENGTH} characters)`));

/**
 * A banned name (or lookalike) is told so and closed, before it could be asked a password. A
 * registered name is asked its password first, held by an open connection or not: whoever gives
 * it takes the name over from a connection that gave it too (the same owner, back on a new
 * connection), or from one that holds it without it, or with an account's since unregistered
 * (renamed, and told). An unregistered name that someone holds is taken: nothing proves who is who.
 * A key of the connection's tied to the name (SSH) stands for its password: no prompt.
 */
export function logIn(state: ChatState, login: LoginIntent): Decision {
  const { name, at, registered = false, account, caller } = login;
  const nick = name.trim();
  const holder = state.userNamed(nick);
  const refused = holder === undefined || !registered ? nameRefusal(state, nick) : nameProblem(nick); // held and registered: its owner may take it
  if (refused !== undefined) return refusal(caller, text.nameRefused(refused));
  if (state.moderation.banOfName(nick, at) !== undefined) return BANNED;
  if (addressBarred(state, login, nick)) return BANNED;
  if (registered && account === undefined) return login.keyed === undefined ? askPassword(caller, nick) : keyLogin(state, login, login.keyed);
  if (holder === undefined) return publish(joined(login, nick));
  return isSameOwner(state, holder, account) ? publish(resumed(login, holder)) : publish(displaced(state, holder, at), joined(login, nick));
}

/** A login with a key tied to the name: as with its right password, told which key opened it. */
function keyLogin(state: ChatState, { user, name, at, from, caller }: LoginIntent, keyed: NameFacts): Decision {
  const checked: PasswordChecked = { type: 'password-checked', user, name: name.trim(), verdict: 'right', at, facts: keyed, caller, late: false, ...(from === undefined ? {} : { from }) };
  const decision = proved(state, checked);
  return decision.events.length === 0 || keyed.key === undefined ? decision : { ...decision, replies: [text.keyOpened(keyed.key), ...decision.replies] };
}

/** The prompt for `nick`'s password; a plain connection is warned once, or refused when passwords need TLS (not a refused name). */
function askPassword(caller: Caller, nick: string): Decision {
  const { secure, rules, tries } = caller;
  if (!secure && rules.requireTlsForPasswords) return answer(text.nameNeedsTls(nick), text.PROMPT);
  const warning = secure || tries.warned ? [] : [text.PASSWORD_IN_CLEAR];
  return { ...answer(...warning, text.PASSWORD_PROMPT), password: nick, tries: { ...tries, warned: tries.warned || !secure } };
}

/**
 * The answer to a password given at login. Right: the login is decided again, on the state now
 * (the name may have been taken meanwhile: the password takes it over), and the chat learns who
 * proved it. Not checkable, or an account's that lost the name: the user may give a username
 * again. Wrong, or not checked now: counted, and asked again until the bound. Past the login
 * deadline, what would wait for another line closes the connection instead.
 */
export function passwordChecked(state: ChatState, intent: PasswordChecked): Decision {
  const { verdict, name, caller, late } = intent;
  if (verdict === 'right') return proved(state, intent);
  if (verdict === 'failed' || verdict === 'displaced') {
    return timingOut(refusal(caller, verdict === 'failed' ? text.CHECK_FAILED : text.nameDisplaced(name)), late);
  }
  const unchecked = verdict === 'unchecked';
  const tries = unchecked ? { ...caller.tries, unchecked: caller.tries.unchecked + 1 } : { ...caller.tries, wrong: caller.tries.wrong + 1 };
  const told = unchecked ? text.PASSWORD_UNCHECKED : text.WRONG_PASSWORD;
  if (late) return { ...answer(told, text.LOGIN_TIMED_OUT), tries, close: 'login_timeout' };
  if (tries.unchecked >= MAX_UNCHECKED_TRIES) return { ...answer(told, text.TOO_MANY_PASSWORD_TRIES), tries, close: 'login_limit' };
  if (tries.wrong >= MAX_PASSWORD_TRIES) return { ...answer(told, text.TOO_MANY_PASSWORD_TRIES), tries, close: 'wrong_password' };
  return { ...answer(told, text.PASSWORD_PROMPT), tries, password: name };
}

/**
 * A login that did not apply (its name was claimed first elsewhere): with the name's password
 * given, the password holds, and the login is decided again on the state now; else the name is
 * taken, and the user is asked another.
 */
export function loginUnapplied(state: ChatState, intent: LoginUnapplied): Decision {
  const { name, caller } = intent;
  if (caller.tries.proved === nameKey(name)) return proved(state, { ...intent, type: 'password-checked', verdict: 'right' });
  return refusal(caller, text.nameRefused(`username ${name} is taken`));
}

/** The login with its password given; once in, the chat learns whose password it was, for operators and grants. */
function proved(state: ChatState, intent: PasswordChecked): Decision {
  const { user, name, at, from, facts = UNREGISTERED, caller, late } = intent;
  const login: LoginIntent = { type: 'login', user, name, at, registered: facts.registered, account: facts.account ?? '', caller, ...(from === undefined ? {} : { from }) };
  const decision = logIn(state, login);
  if (decision.events.length === 0) return timingOut(decision, late);
  const identified: ChatEvent = {
    type: 'identified', user, nick: name, at, ...(facts.account === undefined ? {} : { account: facts.account }), ...(facts.key === undefined ? {} : { key: facts.key }),
  };
  return { ...decision, events: [...decision.events, identified], tries: { ...(decision.tries ?? caller.tries), proved: nameKey(name) } };
}

/** A decision that would wait for another username, past the login deadline: it closes instead. */
function timingOut(decision: Decision, late: boolean): Decision {
  if (!late || decision.close !== undefined || decision.banned === true) return decision;
  const atPrompt = decision.replies.at(-1) === text.PROMPT;
  return { ...decision, replies: [...decision.replies, atPrompt ? text.besidePrompt(text.LOGIN_TIMED_OUT) : text.LOGIN_TIMED_OUT], close: 'login_timeout' };
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
function addressBarred(state: ChatState, { from = '', at, registered = false, account }: LoginIntent, nick: string): boolean {
  if (state.moderation.banOfAddress(from, at) === undefined) return false;
  if (!registered || !state.moderation.isOpName(nick)) return true;
  return account !== undefined && !state.moderation.isOpAccount(nick, account);
}

const joined = ({ user, at, from }: LoginIntent, nick: string): ChatEvent =>
  ({ type: 'joined', user, nick, room: MAIN_ROOM, at, ...(from === undefined ? {} : { from }) });

/** The owner of a registered name, back on a new connection, goes on where the old one was. */
const resumed = ({ user, at, from }: LoginIntent, holder: User): ChatEvent =>
  ({ type: 'resumed', user, replaced: holder.id, nick: holder.nick, at, ...(from === undefined ? {} : { from }) });

/** Whoever holds a registered name without its password gives it up to its owner, for a free variant. */
const displaced = (state: ChatState, holder: User, at: number): ChatEvent =>
  ({ type: 'renamed', user: holder.id, from: holder.nick, nick: freeVariant(state, holder.nick), room: holder.room, at, displaced: true, owner: true });

