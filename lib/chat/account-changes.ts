import { type AccountRequest, MAX_KEYS, passwordProblem, unregisterRequest } from './accounts';
import { firstWord } from './commands';
import { answer, type Context, type Decision, isOneWord, say, usage } from './decision';
import type { ChatEvent } from './events';
import { type Intent, UNREGISTERED } from './intent';
import { nameKey } from './names';
import * as text from './texts';

type AccountChanged = Extract<Intent, { readonly type: 'account-changed' }>;

/**
 * What a change to a registered name asks of the accounts driver, once the rules let it go: one
 * change at a time per connection; a password crosses a plain connection only with a warning
 * (once), or not at all when passwords need TLS. An operator's `/unregister WORD` releases the
 * name WORD when WORD is a registered name other than their own (`unregisterRequest`).
 */
function ask({ intent }: Context, asked: AccountRequest): Decision {
  const { caller, busy = false, named } = intent;
  if (busy) return answer(text.ACCOUNT_BUSY);
  const request = unregisterRequest(asked, () => named?.registered === true); // `named` is what WORD is
  if (request.kind === 'release' || caller === undefined || caller.secure) return { ...answer(), account: request };
  const { rules, tries } = caller;
  if (rules.requireTlsForPasswords) return answer(text.PASSWORDS_NEED_TLS);
  if (tries.warned) return { ...answer(), account: request };
  return { ...answer(text.PASSWORD_IN_CLEAR), account: request, tries: { ...tries, warned: true } };
}

/** A refusal of a new password that breaks the rules, or undefined. */
function passwordIssue(password: string): Decision | undefined {
  const problem = passwordProblem(password);
  return problem === undefined ? undefined : say(problem);
}

/** The first of the caller's verified keys (SSH), which a change ties, and a word when there were several. */
function keyToTie({ intent: { caller } }: Context): { readonly key: string; readonly told: readonly string[] } | undefined {
  const [key] = caller?.keys ?? [];
  if (key === undefined || caller?.keys === undefined) return undefined;
  return { key, told: caller.keys.length > 1 ? [text.firstOfKeys(key, caller.keys.length)] : [] };
}

/** `/keys`: the owner's keys listed, this connection's key tied, or one untied; the name's keys come with the intent. */
function keys(context: Context): Decision {
  const { state, me, args, intent } = context;
  const { named, busy = false } = intent;
  if (named?.registered !== true || !state.isIdentified(me.id)) return say(`/keys is for a registered name's owner, logged in with its password or key`);
  const tied = named.keys ?? [];
  const [verb, rest] = firstWord(args);
  if (verb === '' ) return tied.length === 0 ? say(`no key opens ${me.nick}`) : answer(...tied.map((key) => text.reply(`key ${key}`)));
  if (busy) return answer(text.ACCOUNT_BUSY);
  if (verb === 'add' && rest === '') {
    const tie = keyToTie(context);
    if (tie === undefined) return say('this connection has no verified key: log in over SSH with a key to add it');
    if (tied.includes(tie.key)) return say(`your key ${tie.key} already opens ${me.nick}`);
    if (tied.length >= MAX_KEYS) return say(`${me.nick} has ${MAX_KEYS} keys, the most it may: remove one first`);
    return { ...answer(...tie.told), account: { kind: 'add-key', name: me.nick, key: tie.key } };
  }
  if (verb === 'remove' && isOneWord(rest)) {
    if (!tied.includes(rest)) return say(`no such key of ${me.nick}: ${rest}`);
    return { ...answer(), account: { kind: 'remove-key', name: me.nick, key: rest } };
  }
  return usage('keys');
}

/** `/register`, `/password`, `/unregister` and `/keys`. */
export const ACCOUNT_HANDLERS = {
  register: (context: Context): Decision => {
    const { me, args } = context;
    if (args === '') return usage('register');
    const problem = passwordIssue(args);
    if (problem !== undefined) return problem;
    const tie = keyToTie(context);
    if (tie === undefined) return ask(context, { kind: 'register', name: me.nick, password: args });
    const asked = ask(context, { kind: 'register', name: me.nick, password: args, key: tie.key });
    return asked.account === undefined ? asked : { ...asked, replies: [...tie.told, ...asked.replies] };
  },
  password: (context: Context): Decision => {
    const { me, args } = context;
    const [password, newPassword] = firstWord(args);
    if (password === '' || newPassword === '') return usage('password');
    return passwordIssue(newPassword) ?? ask(context, { kind: 'password', name: me.nick, password, newPassword });
  },
  unregister: (context: Context): Decision => {
    const { state, me, args } = context;
    if (args === '') return usage('unregister');
    if (!state.isOperator(me.id)) return ask(context, { kind: 'unregister', name: me.nick, password: args });
    if (nameKey(args) !== nameKey(me.nick) && state.moderation.isOpName(args)) return say(`${args} is an operator's name: /deop it first`);
    return ask(context, { kind: 'unregister', name: me.nick, password: args, byOperator: true });
  },
  keys,
} as const;

/**
 * How an account change ended, told first: what the identification renders ("you are an
 * operator") comes back at once from a node's own bus and later from a cluster's, and follows it
 * either way. A name registered is proved by its new owner's password.
 */
export function accountChanged({ user, request, outcome, facts = UNREGISTERED, at }: AccountChanged): Decision {
  if (request.kind === 'add-key' || request.kind === 'remove-key') return answer(text.keyOutcome(request.kind, outcome, request.key, request.name));
  const tied = outcome === 'done' && request.kind === 'register' && request.key !== undefined ? [text.keyTied(request.key, request.name)] : [];
  const told = answer(text.accountOutcome(request.kind, outcome, request.name), ...tied);
  if (outcome !== 'done' || request.kind !== 'register') return told;
  const identified: ChatEvent = { type: 'identified', user, nick: request.name, at, ...(facts.account === undefined ? {} : { account: facts.account }) };
  return { ...told, events: [identified] };
}
