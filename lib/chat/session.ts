import { asyncScheduler, Observable, type Observer, type SchedulerLike, type Subscriber, type Subscription, take } from 'rxjs';
import type { Bus } from '../bus/bus';
import { BUDGET_SPENT, type Input, MAX_LINE_BYTES, OVERLONG_LINE } from '../edge/lines';
import { type AccountRequest, type Accounts, MAX_PASSWORD_TRIES, NO_ACCOUNTS } from './accounts';
import { readLine } from './commands';
import { type Decision, decide } from './decide';
import { MAX_NAME_LENGTH, nameKey } from './names';
import type { CloseReason, Connection, Outgoing } from './outgoing';
import { DEFAULT_RATE_LIMITS, LINES_DROPPED, Pace, type PaceSink, type RateLimits } from './pace';
import { cleanText } from './sanitize';
import type { UserId } from './events';
import type { ChatState } from './state';
import type { InputTally } from './tally';
import * as text from './texts';

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

/** Default for the usernames a connection may have refused; at the last, it is closed. */
export const MAX_NAME_ATTEMPTS = 10;

/** Default for the bytes a connection may send before it logs in; past them, it is closed. */
export const MAX_LOGIN_BYTES = 64 * 1024;

/** `Session.refusals` once the user is logged in. */
const LOGGED_IN = -1;

const NAME_TOO_LONG: Decision = {
  events: [],
  replies: [text.nameRefused(`username too long (max ${MAX_NAME_LENGTH} characters)`), text.PROMPT],
  quit: false,
};

/** What the pacing holds: the lines of a logged-in user. */
type Paced = string | typeof OVERLONG_LINE;

/**
 * A line cleaned of what could act on a terminal, but for `/nick`: a name is judged as typed, and
 * refused with the reason, as at login; cleaned, it renamed its sender to what was left of it.
 */
function asTyped(line: string): string {
  const typed = readLine(line);
  return typed.kind === 'command' && typed.name === 'nick' ? line : cleanText(line);
}

/** How each connection is served, from its greeting on. */
export interface SessionOptions {
  readonly banner: string;
  readonly maxLineBytes: number;
  readonly loginTimeoutMs: number;
  readonly maxNameAttempts: number;
  /** The byte budget of the connection's input (lines.ts's BUDGET_SPENT); it binds before login alone. */
  readonly maxLoginBytes: number;
  readonly rateLimits: RateLimits;
  /** Refuse passwords (registered names, `/register`) over plain connections. */
  readonly requireTlsForPasswords: boolean;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  banner: text.DEFAULT_BANNER,
  maxLineBytes: MAX_LINE_BYTES,
  loginTimeoutMs: LOGIN_TIMEOUT_MS,
  maxNameAttempts: MAX_NAME_ATTEMPTS,
  maxLoginBytes: MAX_LOGIN_BYTES,
  rateLimits: DEFAULT_RATE_LIMITS,
  requireTlsForPasswords: false,
};

/** Sessions waiting for their join to come back from the bus, told whether it applied. */
export type Joins = Map<UserId, (applied: boolean) => void>;

/** Lines a user may type while their join is on its way; more are dropped. */
export const MAX_LINES_WHILE_JOINING = 100;

/**
 * The chat as a session sees it: the state to decide from, the bus its events go to, where it
 * counts its input for the node's metrics, and the registered names (none when not given). On a
 * bus that hands events back later (Redis), `joins` is where a session waits to learn whether
 * its name was claimed first elsewhere.
 */
export interface Seat {
  readonly state: ChatState;
  readonly bus: Bus;
  readonly tally?: InputTally;
  readonly accounts?: Accounts;
  readonly joins?: Joins;
  /** The node's figures, for an operator's `/stats`, as lines of text. */
  readonly stats?: () => readonly string[];
}

/**
 * One connection from greeting to its end. Before login each line is a username attempt; after
 * it, every non-blank line is cleaned, paced, and decided on (chat or command). The decision's
 * replies are this Observable's values; its events go to the bus, and come back rendered.
 * Completes when the input ends (once the user's delayed lines are out), when it errors (a
 * user's error is their disconnect, not the room's), at `/quit`, at the login deadline, at the
 * last refused username or wrong password, or at the input's BUDGET_SPENT before login; never
 * errors. The departure is the chat's: it sees the completion.
 */
export function session(
  connection: Connection,
  seat: Seat,
  options: SessionOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<Outgoing> {
  return new Observable<Outgoing>((subscriber) => {
    const life = new Session(connection, seat, options, subscriber, scheduler);
    life.start(connection.input$);
    return life;
  });
}

/**
 * A session's state and handlers in one object, written below the operators it would
 * otherwise be made of: one lives for every connection, idle or not (bench/README.md has what
 * an operator chain per user cost).
 */
class Session implements Observer<Input>, PaceSink<Paced> {
  // The usernames refused so far, LOGGED_IN once one is taken: one field for both, since a
  // session lives for every connection.
  private refusals = 0;
  // Lines typed while the user's join is on the bus, and whether the input ended meanwhile.
  private joining: Input[] | undefined;
  private endedWhileJoining = false;
  private deadline: Subscription | undefined;
  private input: Subscription | undefined;
  // Made for the user's first line: a full bucket then is what one made at login would hold,
  // and an idle user, the most common kind, holds none.
  private pace: Pace<Paced> | undefined;
  private readonly id: string;
  // Registered names: the name given at login that waits for its password, the wrong ones so
  // far, whether the plain-text warning was sent, the key of the name whose password this user
  // gave (they may take it back with /nick), and the check or change under way.
  private awaitingPassword: string | undefined;
  private wrongPasswords = 0;
  private warned = false;
  private identified: string | undefined;
  private pending: Subscription | undefined;

  constructor(
    private readonly connection: Connection,
    private readonly seat: Seat,
    private readonly options: SessionOptions,
    private readonly out: Subscriber<Outgoing>,
    private readonly scheduler: SchedulerLike,
  ) {
    this.id = connection.id;
  }

  start(input$: Observable<Input>): void {
    this.send(text.greeting(this.options.banner));
    this.send(text.PROMPT);
    this.deadline = this.scheduler.schedule(() => this.timeOut(), this.options.loginTimeoutMs);
    this.input = input$.subscribe(this); // an operator's inner subscription: unsubscribe() ends it
  }

  /** Teardown: whichever way the session ends, it stops reading, timing and pacing. */
  unsubscribe(): void {
    this.deadline?.unsubscribe();
    this.input?.unsubscribe();
    this.pending?.unsubscribe();
    this.pace?.stop();
  }

  next(input: Input): void {
    this.seat.tally?.count(input);
    try {
      if (this.joining !== undefined) {
        if (this.joining.length < MAX_LINES_WHILE_JOINING) this.joining.push(input);
      } else if (this.refusals !== LOGGED_IN) this.logIn(input);
      else if (input === BUDGET_SPENT) return; // the budget binds before login alone
      else if (input === OVERLONG_LINE) this.pacing().push(input);
      else {
        const line = asTyped(input);
        if (line.trim().length > 0) this.pacing().push(line);
      }
    } catch {
      this.out.complete(); // a fault in one user's session is their disconnect, not the process's end
    }
  }

  error(): void {
    this.out.complete();
  }

  complete(): void {
    if (this.joining !== undefined) this.endedWhileJoining = true;
    else if (this.pace === undefined) this.close('eof');
    else this.pace.end();
  }

  paced(input: Paced | typeof LINES_DROPPED): void {
    try {
      if (input === OVERLONG_LINE) this.send(text.lineTooLong(this.options.maxLineBytes));
      else if (input === LINES_DROPPED) this.send(text.SLOW_DOWN);
      else this.carryOut(decide(this.seat.state, { type: 'line', user: this.id, text: input, at: this.scheduler.now() }));
    } catch {
      this.out.complete(); // as in next(): a delayed line runs from a timer, where a throw would end the process
    }
  }

  drained(): void {
    this.close('eof');
  }

  dropped(): void {
    if (this.seat.tally !== undefined) this.seat.tally.flooded += 1;
  }

  private pacing(): Pace<Paced> {
    return (this.pace ??= new Pace(this.options.rateLimits, this, this.scheduler));
  }

  private get accounts(): Accounts {
    return this.seat.accounts ?? NO_ACCOUNTS;
  }

  private logIn(input: Input): void {
    if (input === BUDGET_SPENT) return this.close('login_limit', text.tooMuchLoginInput(this.options.maxLoginBytes));
    if (this.pending !== undefined) return; // typed before the password's check answered
    if (this.awaitingPassword !== undefined) return this.checkPassword(this.awaitingPassword, input);
    const decision = input === OVERLONG_LINE ? NAME_TOO_LONG : this.loginDecision(input);
    const joined = decision.events[0];
    if (joined?.type === 'joined' && this.accounts.registered(joined.nick)) this.askPassword(joined.nick);
    else this.admit(decision);
  }

  private loginDecision(name: string): Decision {
    const from = this.connection.from;
    return decide(this.seat.state, { type: 'login', user: this.id, name, at: this.scheduler.now(), ...(from === undefined ? {} : { from }) });
  }

  /**
   * Logs the user in, or counts a refused username. On a bus that hands events back later the
   * user is in once their join comes back applied; what they type meanwhile waits.
   */
  private admit(decision: Decision): void {
    const joined = decision.events[0];
    if (joined?.type !== 'joined') return this.refuse(decision);
    this.carryOut(decision);
    const { joins } = this.seat;
    if (joins === undefined || this.seat.state.user(this.id) !== undefined) this.enter();
    else {
      this.joining = [];
      joins.set(this.id, (applied) => this.settle(applied, joined.nick));
    }
  }

  private enter(): void {
    this.deadline?.unsubscribe();
    this.deadline = undefined; // the spent timer would stay reachable for the user's whole stay
    this.refusals = LOGGED_IN;
  }

  /**
   * The user's join came back: either they are in, and what they typed meanwhile is decided
   * on the next turn (after the welcome the join renders), or their name was claimed first
   * elsewhere and they are asked again.
   */
  private settle(applied: boolean, nick: string): void {
    if (!applied) {
      this.joining = undefined;
      this.refuse({ events: [], replies: [text.nameRefused(`username ${nick} is taken`), text.PROMPT], quit: false });
      if (this.endedWhileJoining) this.close('eof');
      return;
    }
    this.scheduler.schedule(() => {
      const typed = this.joining ?? [];
      this.joining = undefined;
      this.enter();
      for (const input of typed) this.next(input);
      if (this.endedWhileJoining) this.complete();
    });
  }

  /** A refused username: the reason and the prompt again, or at the last attempt the reason and the close. */
  private refuse(decision: Decision): void {
    if (++this.refusals < this.options.maxNameAttempts) return this.carryOut(decision);
    for (const reply of decision.replies) if (reply !== text.PROMPT) this.send(reply);
    this.close('login_limit', text.TOO_MANY_NAME_ATTEMPTS);
  }

  private askPassword(nick: string): void {
    if (!this.passwordsAllowed()) {
      this.send(text.nameNeedsTls(nick));
      this.send(text.PROMPT);
      return;
    }
    this.awaitingPassword = nick;
    this.send(text.PASSWORD_PROMPT);
  }

  /** False, with no warning, when passwords need TLS and this connection is plain; else warns
   * a plain connection once. */
  private passwordsAllowed(): boolean {
    if (this.connection.secure === true) return true;
    if (this.options.requireTlsForPasswords) return false;
    if (!this.warned) this.send(text.PASSWORD_IN_CLEAR);
    this.warned = true;
    return true;
  }

  private checkPassword(nick: string, input: Paced): void {
    const password = input === OVERLONG_LINE ? '' : cleanText(input).trim();
    this.await(this.accounts.verify(nick, password, this.connection.from ?? ''), (right) => {
      if (right) return this.passwordGiven(nick);
      this.wrongPasswords += 1;
      this.send(text.WRONG_PASSWORD);
      if (this.wrongPasswords < MAX_PASSWORD_TRIES) this.send(text.PASSWORD_PROMPT);
      else this.close('wrong_password');
    });
  }

  /** The name may have been taken while its password was checked: then the prompt again. */
  private passwordGiven(nick: string): void {
    this.awaitingPassword = undefined;
    const decision = this.loginDecision(nick);
    this.admit(decision);
    if (decision.events.length > 0) this.identify(nick);
  }

  /** The user gave `nick`'s password: the chat learns it, and makes them an operator if `nick` is one's. */
  private identify(nick: string): void {
    this.identified = nameKey(nick);
    this.seat.bus.publish({ type: 'identified', user: this.id, nick, at: this.scheduler.now() });
  }

  /** Runs `handle` with the one value of `answer$`, after this session's other work: the
   * session reads no line meanwhile (at login) or takes no other account change. */
  private await<T>(answer$: Observable<T>, handle: (value: T) => void): void {
    let answered = false;
    const subscription = answer$.pipe(take(1)).subscribe((value) => {
      answered = true;
      this.pending = undefined;
      try {
        handle(value);
      } catch {
        this.out.complete(); // as in next(): the answer comes from a timer or a promise
      }
    });
    if (!answered) this.pending = subscription;
  }

  private changeAccount(request: AccountRequest): void {
    if (this.pending !== undefined) return this.send(text.ACCOUNT_BUSY);
    if (!this.passwordsAllowed()) return this.send(text.PASSWORDS_NEED_TLS);
    this.await(this.accounts.change(request, this.connection.from ?? ''), (outcome) => {
      if (outcome === 'done' && request.kind === 'register') this.identify(request.name);
      else if (outcome === 'done') this.identified = request.kind === 'unregister' ? undefined : nameKey(request.name);
      this.send(text.accountOutcome(request.kind, outcome, request.name));
    });
  }

  /** Replies first, then the events, whose renderings come back through the bus. */
  private carryOut(decision: Decision): void {
    const { replies, events, quit, account, banned, stats } = decision;
    const renamed = events.find((event) => event.type === 'renamed');
    if (renamed !== undefined && this.accounts.registered(renamed.nick) && nameKey(renamed.nick) !== this.identified) {
      return this.send(text.nameRegistered(renamed.nick));
    }
    for (const reply of replies) this.send(reply);
    for (const event of events) this.seat.bus.publish(event);
    if (account !== undefined) this.changeAccount(account);
    if (stats === true) for (const line of this.seat.stats?.() ?? ['no figures on this server']) this.send(text.reply(line));
    if (quit) this.close('quit');
    else if (banned === true) this.close('banned');
  }

  private timeOut(): void {
    this.close('login_timeout', text.LOGIN_TIMED_OUT);
  }

  /** Says why, if there is more to say, and asks for the connection to be closed. */
  private close(reason: CloseReason, why?: string): void {
    if (why !== undefined) this.send(why);
    this.out.next({ kind: 'close', to: this.id, reason });
    this.out.complete();
  }

  private send(line: string): void {
    this.out.next({ kind: 'send', to: this.id, text: line });
  }
}
