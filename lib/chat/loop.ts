import { catchError, EMPTY, filter, ignoreElements, type Observable, type ObservableInput, of, type SchedulerLike, Subject, take, takeUntil, tap } from 'rxjs';
import type { Bus } from './bus';
import { type Accounts, NO_ACCOUNTS } from './accounts';
import type { Answer, Inbox, SessionOutput } from './asks';
import { asksKeys, type Decision, decide, nameAskedBy } from './decide';
import { type ChatEvent, isOwnChange, type ModerationLoaded, type UserId } from './events';
import type { Gate } from './gate';
import type { Intent, NameFacts } from './intent';
import type { SavedModerationEvent } from './moderation';
import type { Connection } from './connection';
import type { Outgoing } from './outgoing';
import { sessions } from './session';
import type { SessionOptions } from './session-options';
import type { ChatState } from './state';
import type { ChatView } from './view';
import type { InputTally } from './input-tally';
import * as text from './texts';

/** Keeps moderation changes: `keep` emits once whether the change was kept, then completes; it never errors. */
export interface ModerationKeeper {
  keep(change: SavedModerationEvent): Observable<'kept' | 'failed'>;
}

const DONE: Answer = { kind: 'done' };
const DROPPED: Answer = { kind: 'dropped' };
const FAILED: Answer = { kind: 'failed' };

/**
 * The chat as its loop sees it: the state to decide from, the bus its events go to, where it
 * counts its input for the node's metrics, and the accounts driver (no name registered when not given).
 */
export interface Seat {
  /**
   * Makes the chat's state, new for each subscription of the chat, which alone uses it.
   * None: an empty chat with the default bounds.
   */
  readonly newState?: () => ChatState;
  /** Handed the read-only view of each new state, for what the node reads of it outside the chat. */
  readonly viewed?: (view: ChatView) => void;
  /** What the store keeps of moderation: the state takes it first, inside the chat's subscription. */
  readonly loaded?: ModerationLoaded;
  readonly bus: Bus;
  readonly tally?: InputTally;
  readonly accounts?: Accounts;
  /**
   * Emits each time the registered names were read again whole (at start, after an outage), once
   * `accounts` answers from what was read; the chat's subscription holds the reading. None: never.
   */
  readonly accountsReread$?: Observable<unknown>;
  /**
   * The store driver for moderation changes: each change this node's operator made, once the
   * state took it, goes in; whether it was kept comes out (the operator is told when it was not).
   * None: nothing is kept.
   */
  readonly store?: ModerationKeeper;
  /** The node's figures, for an operator's `/stats`, as lines of text. */
  readonly stats?: () => readonly string[];
  /**
   * Told of each event once the state took it, the user events a roster or a lost node stands for
   * included, and not again when a replay after an outage applies it anew: what a log shows.
   */
  readonly applied?: (event: ChatEvent) => void;
}

/** The loop's half that serves connections, for the chat that reduces the bus's events. */
export interface Serving {
  /** Each connection's session: what it sends its user, and what it asks (answered by `handle`). */
  open(connection: Connection): Observable<SessionOutput>;
  /** What a session emitted: what its user is sent goes on; what it asks is decided or handed to the accounts driver. */
  handle(output: SessionOutput): ObservableInput<Outgoing>;
  /**
   * An own change of `user` is back from the bus, having written `bytes` to them alone: their
   * session is told, and what waited for it is decided. True when they left meanwhile: their
   * departure is due now.
   */
  landed(user: UserId, applied: boolean, bytes: number): boolean;
  /** `user`'s session ended: what it asked of the accounts driver is let go. */
  ended(user: UserId): void;
}

/**
 * Serves a chat's connections: each session's intents, with what the accounts driver says of the
 * names they name, are decided on the state (held by `gate` while an own change of their user is
 * on its way); the decision goes to the session as a value, then its events to the bus.
 */
export function serving(seat: Seat, state: ChatState, gate: Gate, options: SessionOptions, scheduler: SchedulerLike): Serving {
  const { bus } = seat;
  const accounts = seat.accounts ?? NO_ACCOUNTS;
  const departures = new Subject<UserId>();
  const open = sessions({ options, scheduler, tally: seat.tally });
  const factsOf = (name: string): NameFacts => {
    const account = accounts.accountOf(name);
    return { registered: accounts.registered(name), ...(account === undefined ? {} : { account }) };
  };
  /** What the name is, with the key of `offered` tied to it, if one is: a key login. */
  const keyedFacts = (name: string, offered: readonly string[] = []): NameFacts | undefined => {
    if (offered.length === 0) return undefined;
    const tied = accounts.keysOf?.(name) ?? [];
    const key = offered.find((each) => tied.includes(each));
    return key === undefined ? undefined : { ...factsOf(name), key };
  };
  const withFacts = (intent: Intent): Intent => {
    switch (intent.type) {
      case 'login': {
        const name = intent.name.trim();
        const keyed = keyedFacts(name, intent.caller.keys);
        return { ...intent, registered: accounts.registered(name), ...(keyed === undefined ? {} : { keyed }) };
      }
      case 'line': {
        const name = nameAskedBy(intent.text);
        if (name !== undefined) return { ...intent, named: factsOf(name) };
        const own = state.user(intent.user);
        return own !== undefined && asksKeys(intent.text) ? { ...intent, named: { ...factsOf(own.nick), keys: accounts.keysOf?.(own.nick) ?? [] } } : intent;
      }
      case 'password-checked': case 'login-unapplied': return { ...intent, facts: factsOf(intent.name) };
      case 'account-changed': return { ...intent, facts: factsOf(intent.request.name) };
      default: return intent;
    }
  };
  const withStats = (decision: Decision): Decision => {
    if (decision.stats !== true) return decision;
    const figures = (seat.stats?.() ?? ['no figures on this server']).map((line) => text.reply(line));
    return { ...decision, replies: [...decision.replies, ...figures] };
  };
  const publish = (user: UserId, event: ChatEvent, inbox: Inbox) => {
    if (isOwnChange(event) && event.user === user) gate.expect(user, event.type === 'joined' || event.type === 'resumed', inbox);
    bus.publish(event);
  };
  const decideFor = (intent: Intent, inbox: Inbox): void => {
    const { user } = intent;
    if (gate.holds(user)) {
      if (!gate.hold(user, intent)) inbox.answer(DROPPED);
      return;
    }
    let decision: Decision;
    try {
      decision = withStats(decide(state, withFacts(intent)));
    } catch {
      return inbox.answer(FAILED); // a fault in one user's intent is their disconnect, not the chat's end
    }
    inbox.answer({ kind: 'decided', decision }); // its replies come before what its events render
    for (const event of decision.events) publish(user, event, inbox);
    inbox.answer(DONE); // its session may end now: its events are on their way
  };
  const release = (user: UserId, inbox: Inbox) => {
    for (const intent of gate.release(user)) decideFor(intent, inbox);
  };
  const answered = <T>(user: UserId, inbox: Inbox, answer$: Observable<T>, failed: T, answer: (value: T) => Answer): Observable<Outgoing> =>
    // An error left unhandled in a subscription is thrown from a timer, which ends the process.
    answer$.pipe(
      take(1), catchError(() => of(failed)), takeUntil(departures.pipe(filter((gone) => gone === user))),
      tap((value) => inbox.answer(answer(value))), ignoreElements(),
    );
  return {
    open,
    handle: (output) => {
      switch (output.kind) {
        case 'decide': decideFor(output.intent, output.inbox); return EMPTY;
        case 'verify': {
          const { user, name, password, from, inbox } = output;
          return answered(user, inbox, accounts.verify(name, password, from), 'failed', (verdict) => ({ kind: 'verdict', name, verdict }));
        }
        case 'change': {
          const { user, request, inbox } = output;
          return answered(user, inbox, accounts.change(request, state.user(user)?.from ?? ''), 'failed', (outcome) => ({ kind: 'outcome', request, outcome }));
        }
        default: return [output];
      }
    },
    landed: (user, applied, bytes) => {
      const landing = gate.landed(user);
      if (landing === undefined) return false;
      if (landing.leaving) return true;
      const { inbox } = landing;
      if (landing.login && !applied) {
        // Its name was claimed first elsewhere: what was asked meanwhile waits for a login
        // decided again (with the name's password), or goes.
        const held = gate.release(user);
        inbox.answer({ kind: 'landed', applied, bytes });
        if (!gate.holdFirst(user, held)) held.forEach(() => inbox.answer(DONE));
        return false;
      }
      inbox.answer({ kind: 'landed', applied, bytes });
      if (landing.waiting) scheduler.schedule(() => release(user, inbox)); // after what the change renders
      return false;
    },
    ended: (user) => departures.next(user),
  };
}
