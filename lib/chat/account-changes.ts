import { type AccountRequest, passwordProblem, unregisterRequest } from './accounts';
import { firstWord } from './commands';
import { answer, type Context, type Decision, say, usage } from './decision';
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

/** `/register`, `/password` and `/unregister`. */
export const ACCOUNT_HANDLERS = {
  register: (context: Context): Decision => {
    const { me, args } = context;
    if (args === '') return usage('register');
    return passwordIssue(args) ?? ask(context, { kind: 'register', name: me.nick, password: args });
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
} as const;

/**
 * How an account change ended, told first: what the identification renders ("you are an
 * operator") comes back at once from a node's own bus and later from a cluster's, and follows it
 * either way. A name registered is proved by its new owner's password.
 */
export function accountChanged({ user, request, outcome, facts = UNREGISTERED, at }: AccountChanged): Decision {
  const told = answer(text.accountOutcome(request.kind, outcome, request.name));
  if (outcome !== 'done' || request.kind !== 'register') return told;
  const identified: ChatEvent = { type: 'identified', user, nick: request.name, at, ...(facts.account === undefined ? {} : { account: facts.account }) };
  return { ...told, events: [identified] };
}
