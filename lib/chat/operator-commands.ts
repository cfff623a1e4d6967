import { type CommandName, firstWord, type ModerationCommand } from './commands';
import { answer, type Context, type Decision, isOneWord, length, noSuchUser, publish, say, tooLong, usage } from './decision';
import { addressGroup } from './address-group';
import { looksLikeDuration, parseDuration } from './durations';
import { lineByLine, MAX_LISTED_BANS } from './listing';
import { isSavedModeration, MAX_BANS } from './moderation';
import { nameProblem } from './names';
import type { User } from './state';
import * as text from './texts';

/** The longest reason for a kick or a ban, in characters. */
export const MAX_REASON_LENGTH = 200;
/** The longest message of the day, in characters. */
export const MAX_MOTD_LENGTH = 400;
/** How long a mute lasts when `/mute` is given no duration. */
export const DEFAULT_MUTE_MS = 10 * 60_000;
/** `/motd` or `/topic` with this alone clears the message of the day or the topic. */
export const CLEAR = '-';

type Handler = (context: Context) => Decision;
/** Why a command goes no further, as its decision. */
interface Refusal {
  readonly refusal: Decision;
}
const refuse = (decision: Decision): Refusal => ({ refusal: decision });

/** Lets operators through to `handler`; anyone else gets one line. */
const forOperators = (name: CommandName, handler: Handler): Handler => (context) =>
  context.state.isOperator(context.me.id) ? handler(context) : answer(text.operatorsOnly(name));

/**
 * Refuses, with one line, a change that would be saved (ops, bans, the message of the day) while
 * the node is cut off from the cluster: it could be saved nowhere and reach no other node, so it
 * would hold here alone, until the data is loaded again when the cluster is back.
 */
const savable = (handler: Handler): Handler => (context) => {
  const decision = handler(context);
  return context.state.cutOff && decision.events.some(isSavedModeration) ? answer(text.NOT_SAVED_APART) : decision;
};

/** The online user `name` names, unless they are the sender or an operator. */
function targetOf({ state, me }: Context, name: string, verb: string): User | Refusal {
  const target = state.userNamed(name);
  if (target === undefined) return refuse(noSuchUser(name));
  if (target.id === me.id) return refuse(say(`you cannot ${verb} yourself`));
  if (state.isOperator(target.id)) return refuse(say(`${target.nick} is an operator`));
  return target;
}

/** A duration at the head of `rest`, in ms (undefined when there is none), and what follows it. */
function leadingDuration(rest: string): { readonly ms: number | undefined; readonly after: string } | Refusal {
  const [word, after] = firstWord(rest);
  if (!looksLikeDuration(word)) return { ms: undefined, after: rest };
  const ms = parseDuration(word);
  return typeof ms === 'string' ? refuse(say(ms)) : { ms, after };
}

/** `/motd` shows the message of the day to anyone; setting it is for operators. */
export const motd: Handler = savable((context) => {
  const { state, me, args, at } = context;
  if (args === '') return state.moderation.motd === '' ? answer(text.NO_MOTD) : answer(text.motdLine(state.moderation.motd));
  if (!state.isOperator(me.id)) return answer(text.operatorsOnly('motd'));
  if (length(args) > MAX_MOTD_LENGTH) return tooLong('message of the day', MAX_MOTD_LENGTH);
  return publish({ type: 'motd', user: me.id, nick: me.nick, text: args === CLEAR ? '' : args, at });
});

const op: Handler = ({ state, me, args, at }) => {
  if (!isOneWord(args)) return usage('op');
  const target = state.userNamed(args);
  if (target === undefined) return noSuchUser(args);
  if (state.isOperator(target.id)) return say(`${target.nick} is already an operator`);
  if (!state.isIdentified(target.id)) return say(`${target.nick} has not logged in with the password of a registered name`);
  const account = state.accountOf(target.id); // the grant is the account's: a later owner of the name does not inherit it
  return publish({ type: 'opped', user: me.id, nick: me.nick, name: target.nick, at, ...(account === undefined ? {} : { account }) });
};

const deop: Handler = ({ state, me, args, at }) => {
  if (!isOneWord(args)) return usage('deop');
  if (state.moderation.isFixedOp(args)) return say(`${args} is an operator by configuration (--ops)`);
  if (!state.moderation.isOpName(args)) return say(`${args} is not an operator`);
  // Named as its holder holds it, else as it was opped: however it was typed, as /nick names a user.
  return publish({ type: 'deopped', user: me.id, nick: me.nick, name: state.userNamed(args)?.nick ?? state.moderation.oppedName(args) ?? args, at });
};

const kick: Handler = (context) => {
  const { me, args, at } = context;
  const [name, reason] = firstWord(args);
  if (name === '') return usage('kick');
  if (length(reason) > MAX_REASON_LENGTH) return tooLong('reason', MAX_REASON_LENGTH);
  const target = targetOf(context, name, 'kick');
  if ('refusal' in target) return target.refusal;
  return publish({ type: 'kicked', user: me.id, nick: me.nick, target: target.id, targetNick: target.nick, room: target.room, reason, at });
};

/**
 * Bans an online user's name and address, or an offline name alone. The address is left out
 * when it is in the operator's own group (the same machine, one NAT, or one IPv6 /64): they would
 * ban themselves.
 */
const ban: Handler = (context) => {
  const { state, me, args, at } = context;
  const [name, rest] = firstWord(args);
  if (name === '') return usage('ban');
  const term = leadingDuration(rest);
  if ('refusal' in term) return term.refusal;
  if (length(term.after) > MAX_REASON_LENGTH) return tooLong('reason', MAX_REASON_LENGTH);
  const target = state.userNamed(name) === undefined ? offlineName(context, name) : targetOf(context, name, 'ban');
  if ('refusal' in target) return target.refusal;
  if (state.moderation.bans(at).length >= MAX_BANS && state.moderation.banOfName(target.nick, at) === undefined) {
    return say(`too many bans (max ${MAX_BANS})`);
  }
  const address = addressGroup(target.from) === addressGroup(me.from) ? '' : target.from;
  const until = term.ms === undefined ? null : at + term.ms;
  return publish({ type: 'banned', user: me.id, nick: me.nick, ban: { name: target.nick, address, until, by: me.nick, reason: term.after }, at });
};

/** A name nobody holds now, which a ban may still keep out, as a ban's target. */
function offlineName({ state }: Context, name: string): { readonly nick: string; readonly from: string } | Refusal {
  const problem = nameProblem(name);
  if (problem !== undefined) return refuse(say(problem));
  if (state.moderation.isOpName(name)) return refuse(say(`${name} is an operator`));
  return { nick: name, from: '' };
}

const unban: Handler = ({ state, me, args, at }) => {
  if (!isOneWord(args)) return usage('unban');
  const byName = state.moderation.banOfName(args, at);
  if (byName === undefined && state.moderation.banOfAddress(args, at) === undefined) return say(`${args} is not banned`);
  // A name as its ban holds it, as /nick and the rest echo a name as its user holds it.
  return publish({ type: 'unbanned', user: me.id, nick: me.nick, target: byName?.name ?? args, at });
};

const bans: Handler = ({ state, at }) => {
  const found = state.moderation.bans(at);
  if (found.length === 0) return answer(text.NO_BANS);
  const shown = found.slice(0, MAX_LISTED_BANS).map(({ name, address, until, by, reason }) => text.ban(name, address, until, by, reason));
  return answer(lineByLine(shown, found.length, MAX_LISTED_BANS));
};

const mute: Handler = (context) => {
  const { me, args, at } = context;
  const [name, rest] = firstWord(args);
  if (name === '') return usage('mute');
  const ms = rest === '' ? DEFAULT_MUTE_MS : parseDuration(rest);
  if (typeof ms === 'string') return say(ms);
  const target = targetOf(context, name, 'mute');
  if ('refusal' in target) return target.refusal;
  return publish({ type: 'muted', user: me.id, nick: me.nick, name: target.nick, until: at + ms, at });
};

const unmute: Handler = ({ state, me, args, at }) => {
  if (!isOneWord(args)) return usage('unmute');
  const name = state.userNamed(args)?.nick ?? args;
  if (!state.isNameMuted(name, at)) return say(`${name} is not muted`);
  return publish({ type: 'unmuted', user: me.id, nick: me.nick, name, at });
};

/** Every operator command's handler, each refusing anyone but an operator with one line. */
export const MODERATION_HANDLERS: Record<ModerationCommand, Handler> = {
  op: forOperators('op', savable(op)),
  deop: forOperators('deop', savable(deop)),
  kick: forOperators('kick', kick),
  ban: forOperators('ban', savable(ban)),
  unban: forOperators('unban', savable(unban)),
  bans: forOperators('bans', bans),
  mute: forOperators('mute', mute),
  unmute: forOperators('unmute', unmute),
  stats: forOperators('stats', () => ({ events: [], replies: [], quit: false, stats: true })),
};
