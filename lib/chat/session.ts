import { asyncScheduler, catchError, Observable, type Observer, of, type SchedulerLike, type Subscriber, type Subscription, take, type TeardownLogic, type Unsubscribable } from 'rxjs';
import type { Bus } from './bus';
import { BUDGET_SPENT, type Input, INPUT_ENDED, MAX_LINE_BYTES, OVERLONG_LINE, type Received } from './input';
import { type AccountRequest, type Accounts, MAX_PASSWORD_TRIES, MAX_UNCHECKED_TRIES, NO_ACCOUNTS, unregisterRequest } from './accounts';
import { readLine } from './commands';
import { type Decision, decide } from './decide';
import { MAX_NAME_LENGTH, nameKey } from './names';
import type { Connection } from './connection';
import type { CloseReason, Outgoing } from './outgoing';
import { DEFAULT_RATE_LIMITS, LINES_DROPPED, Pace, type PaceSink, type RateLimits, replyCost } from './pace';
import { cleanText } from './sanitize';
import { type ChatEvent, isOwnChange, type UserId } from './events';
import type { ChatState } from './state';
import type { InputTally } from './input-tally';
import * as text from './texts';
import { utf8Bytes } from './utf8';

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

/** Default for the usernames a connection may have refused; at the last, it is closed. */
export const MAX_NAME_ATTEMPTS = 10;

/** Default for the bytes a connection may send before it logs in; past them, it is closed. */
export const MAX_LOGIN_BYTES = 64 * 1024;

/** `Session.refusals` once the user is logged in. */
const LOGGED_IN = -1;

/** `Session.input` once the session reads its input no more. */
const STOPPED = Symbol('stopped reading');

/** What ends the reading of a session's input. */
type Teardown = Unsubscribable | (() => void);

const tearDown = (teardown: Teardown): void => (typeof teardown === 'function' ? teardown() : teardown.unsubscribe());

const NAME_TOO_LONG: Decision = {
  events: [],
  replies: [text.nameRefused(`username too long (max ${MAX_NAME_LENGTH} characters)`), text.PROMPT],
  quit: false,
};

/** What the pacing holds: the lines of a logged-in user. */
type Paced = string | typeof OVERLONG_LINE;

/** What waits for an own change to come back: input as typed before login, paced lines after. */
type Held = Received | typeof LINES_DROPPED;

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

/** How an event someone waits for turned out once back: applied, or not (a name claimed first elsewhere). */
export type Landing = 'applied' | 'unapplied';

/** Who waits for an own change of their user (isOwnChange) to come back from the bus. */
export interface Waiter {
  /** `bytes`: what the change, back, wrote to its user alone (a room's history on `/join`); none when not given. */
  landed(landing: Landing, bytes?: number): void;
}

/** Who waits for their user's own change, by user: an entry only while it is on its way. */
export type Waits = Map<UserId, Waiter>;

/** Lines a user may type while an own change of theirs (login, `/join`, `/nick`...) is on its way; more are dropped. */
export const MAX_HELD_LINES = 100;

/**
 * The chat as a session sees it: the state to decide from, the bus its events go to, where it
 * counts its input for the node's metrics, and the registered names (none when not given). On a
 * bus that hands events back later (Redis), `waits` is where a session waits for an own change
 * of its user to come back (a login: was the name claimed first elsewhere?) before it decides
 * their next line; without it, a session waits for nothing.
 */
export interface Seat {
  readonly state: ChatState;
  readonly bus: Bus;
  readonly tally?: InputTally;
  readonly accounts?: Accounts;
  readonly waits?: Waits;
  /**
   * Emits each time the registered names were read again whole (at start, after an outage), once
   * `accounts` answers from what was read; the chat's subscription holds the reading. None: never.
   */
  readonly accountsReread$?: Observable<unknown>;
  /** The node's figures, for an operator's `/stats`, as lines of text. */
  readonly stats?: () => readonly string[];
  /**
   * Told of each event once the state took it, the user events a roster or a lost node stands for
   * included, and not again when a replay after an outage applies it anew: what a log shows.
   */
  readonly applied?: (event: ChatEvent) => void;
}

/**
 * One connection from greeting to its end. Before login each line is a username attempt; after it,
 * every non-blank line is cleaned, paced, and decided on (chat or command). The decision's replies
 * are this Observable's values; its events go to the bus, and come back rendered. Completes when
 * the input ends (INPUT_ENDED, or completion without it: once the user's delayed lines, and those
 * held for an own change of theirs, are out), at once when it errors (a user's error is their
 * disconnect, not the room's) or completes after INPUT_ENDED (the connection was lost after its
 * peer's end: what still waits would flood the room from a user no longer there), at `/quit`, at the
 * login deadline, at the last refused username or wrong password, or at the input's BUDGET_SPENT
 * before login; never errors. The departure is the chat's: it sees the completion.
 */
export function session(
  connection: Connection,
  seat: Seat,
  options: SessionOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<Outgoing> {
  return sessions(seat, options, scheduler)(connection);
}

/** `session` for each connection of one chat: what they share is held once, not by each session. */
export function sessions(
  seat: Seat,
  options: SessionOptions,
  scheduler: SchedulerLike = asyncScheduler,
): (connection: Connection) => Observable<Outgoing> {
  const ground: Ground = { seat, options, scheduler };
  return ({ id, input$, secure, from }) =>
    new Observable<Outgoing>((subscriber) => {
      const life = new Session(id, secure === true, ground, subscriber);
      life.start(input$, from ?? '');
      return life;
    });
}

/** What every session of a chat shares. */
interface Ground {
  readonly seat: Seat;
  readonly options: SessionOptions;
  readonly scheduler: SchedulerLike;
}

/**
 * What a session holds only at times: its login (deadline, address), an own change of its user
 * on its way on the bus and the lines held for it, a registered name's password prompt, an
 * account change under way, a password given. One object, made when needed and let go once
 * logged in with none of it left, since most sessions idle logged in without any of it.
 */
class Occasional {
  deadline: Subscription | undefined;
  // While an own change of the user is on the bus: what they typed meanwhile, whether their
  // input ended meanwhile, and, when the change is their login, the name they gave.
  held: Held[] | undefined;
  heldEnded = false;
  joining: string | undefined;
  // The name given at login that waits for its password, the wrong ones and the unchecked ones so
  // far (counted apart: others' guesses at the name must not use up its owner's tries), whether the
  // plain-text warning was sent, the key of the name whose password this user gave (they may
  // take it back with /nick), and the check or change under way.
  awaitingPassword: string | undefined;
  wrongPasswords = 0;
  uncheckedPasswords = 0;
  warned = false;
  identified: string | undefined;
  pending: Subscription | undefined;
  // The login deadline passed while a password given before it was checked: the answer decides.
  timedOut = false;
  // The last text sent was a prompt, and no line has come since: the peer's cursor is after it.
  promptWaiting = false;
  // The door was told to hide what the user types (a password), and not yet to show it again.
  concealed = false;

  /** `from`: the peer's address, which wrong passwords slow down. */
  constructor(readonly from: string) {}

  /** Holds nothing a logged-in session needs. */
  get spent(): boolean {
    return (
      this.deadline === undefined && this.held === undefined && this.awaitingPassword === undefined &&
      !this.warned && this.identified === undefined && this.pending === undefined
    );
  }
}

/**
 * A session's state and handlers in one object, written below the operators it would
 * otherwise be made of: one lives for every connection, idle or not (bench/README.md has what
 * an operator chain per user cost). It holds no more than an idle logged-in user needs.
 *
 * It is its input's subscriber itself: an observer that is also a subscription (closed, add,
 * remove, unsubscribe) is one to RxJS's subscribe, which then makes no SafeSubscriber, observer
 * and finalizer array for the connection. So it keeps a subscriber's promises to its input: it
 * takes nothing after the input's end or its own, and then runs the input's teardown.
 */
class Session implements Observer<Input>, PaceSink<Paced>, Waiter {
  // The usernames refused so far, LOGGED_IN once one is taken: one field for both.
  private refusals = 0;
  // The input's teardown, STOPPED once it ran.
  private input: Teardown | typeof STOPPED | undefined;
  // Made for the user's first line: a full bucket then is what one made at login would hold,
  // and an idle user, the most common kind, holds none.
  private pace: Pace<Paced> | undefined;
  private occasional: Occasional | undefined;
  // The peer has ended its side: what it sent is still paced out, unless the socket is lost first.
  private peerEnded = false;

  constructor(
    private readonly id: UserId,
    private readonly secure: boolean,
    private readonly ground: Ground,
    private readonly out: Subscriber<Outgoing>,
  ) {}

  start(input$: Observable<Input>, from: string): void {
    this.occasional = new Occasional(from);
    this.send(text.greeting(this.options.banner));
    this.send(text.PROMPT);
    this.occasional.deadline = this.scheduler.schedule(() => this.timeOut(), this.options.loginTimeoutMs);
    input$.subscribe(this); // as its own subscriber: unsubscribe() ends the reading with the rest
  }

  /** Teardown: whichever way the session ends, it stops reading, timing and pacing. */
  unsubscribe(): void {
    this.occasional?.deadline?.unsubscribe();
    this.stopReading();
    this.occasional?.pending?.unsubscribe();
    this.pace?.stop();
  }

  /** True once the session reads its input no more. */
  get closed(): boolean {
    return this.input === STOPPED;
  }

  /** Keeps a teardown of the input, run when the session stops reading it (at once if it has). */
  add(teardown: TeardownLogic): void {
    if (teardown === undefined || teardown === this) return;
    const before = this.input;
    if (before === STOPPED) tearDown(teardown);
    else this.input = before === undefined ? teardown : () => { tearDown(before); tearDown(teardown); };
  }

  /** A subscriber's: the session holds no subscription that could be taken out. */
  remove(): void {}

  next(input: Input): void {
    if (this.closed) return;
    if (input === INPUT_ENDED) {
      this.peerEnded = true;
      return this.inputEnded();
    }
    this.seat.tally?.count(input); // here, not in read(): input held for a login is read again later
    if (typeof input === 'string' && this.occasional !== undefined) this.occasional.promptWaiting = false;
    this.read(input);
  }

  error(): void {
    if (this.closed) return;
    this.stopReading();
    this.out.complete();
  }

  complete(): void {
    if (this.closed) return;
    this.stopReading();
    // Closed after the peer's end, with lines of theirs still waiting: the connection was lost.
    if (this.peerEnded) this.out.complete();
    else this.inputEnded();
  }

  private stopReading(): void {
    const teardown = this.input;
    this.input = STOPPED;
    if (teardown !== undefined && teardown !== STOPPED) tearDown(teardown);
  }

  private read(input: Received): void {
    try {
      const occasional = this.occasional;
      if (occasional?.joining !== undefined) this.hold(occasional, input);
      else if (this.refusals !== LOGGED_IN) this.logIn(input);
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

  private inputEnded(): void {
    const occasional = this.occasional;
    if (occasional?.joining !== undefined) occasional.heldEnded = true;
    else if (this.pace === undefined) this.close('eof');
    else this.pace.end();
  }

  /** Keeps `input` for when the user's own change is back; past MAX_HELD_LINES, drops it. */
  private hold(occasional: Occasional, input: Held): void {
    const held = (occasional.held ??= []);
    if (held.length < MAX_HELD_LINES) held.push(input);
    else this.dropped();
  }

  paced(input: Paced | typeof LINES_DROPPED): void {
    const occasional = this.occasional;
    if (occasional?.held !== undefined) return this.hold(occasional, input); // decided once the user's own change is back
    try {
      if (input === OVERLONG_LINE) this.send(text.lineTooLong(this.options.maxLineBytes));
      else if (input === LINES_DROPPED) this.send(text.SLOW_DOWN);
      else this.charge(this.carryOut(decide(this.seat.state, { type: 'line', user: this.id, text: input, at: this.scheduler.now() })));
    } catch {
      this.out.complete(); // as in next(): a delayed line runs from a timer, where a throw would end the process
    }
  }

  drained(): void {
    const occasional = this.occasional;
    if (occasional?.held !== undefined) occasional.heldEnded = true; // closed once the held lines are out
    else this.close('eof');
  }

  dropped(): void {
    if (this.seat.tally !== undefined) this.seat.tally.flooded += 1;
  }

  private get seat(): Seat {
    return this.ground.seat;
  }

  private get options(): SessionOptions {
    return this.ground.options;
  }

  private get scheduler(): SchedulerLike {
    return this.ground.scheduler;
  }

  private get accounts(): Accounts {
    return this.seat.accounts ?? NO_ACCOUNTS;
  }

  /** The occasional state, made again for a logged-in user: their address is the chat's record of it. */
  private aside(): Occasional {
    return (this.occasional ??= new Occasional(this.seat.state.user(this.id)?.from ?? ''));
  }

  private pacing(): Pace<Paced> {
    return (this.pace ??= new Pace(this.options.rateLimits, this, this.scheduler));
  }

  private logIn(input: Received): void {
    if (input === BUDGET_SPENT) return this.close('login_limit', text.tooMuchLoginInput(this.options.maxLoginBytes));
    const aside = this.aside();
    if (aside.pending !== undefined) return; // typed before the password's check answered
    if (aside.awaitingPassword !== undefined) return this.checkPassword(aside.awaitingPassword, input);
    const decision = input === OVERLONG_LINE ? NAME_TOO_LONG : this.loginDecision(input);
    if (decision.password !== undefined) this.askPassword(decision.password);
    else this.admit(decision);
  }

  /** decide's answer to logging in as `name`, with the id of its account once its password was given. */
  private loginDecision(name: string, account?: string): Decision {
    const { from } = this.aside();
    const registered = this.accounts.registered(name.trim());
    const login = { type: 'login', user: this.id, name, at: this.scheduler.now(), registered } as const;
    return decide(this.seat.state, { ...login, ...(from === '' ? {} : { from }), ...(account === undefined ? {} : { account }) });
  }

  /**
   * Logs the user in, or counts a refused username. On a bus that hands events back later the
   * user is in once their join comes back applied; what they type meanwhile waits.
   */
  private admit(decision: Decision): void {
    const login = decision.events.find((event) => event.type === 'joined' || event.type === 'resumed');
    if (login === undefined) return this.refuse(decision);
    this.carryOut(decision);
    const aside = this.aside();
    if (aside.held === undefined) this.enter();
    else aside.joining = login.nick;
  }

  private enter(): void {
    const aside = this.aside();
    aside.deadline?.unsubscribe();
    aside.deadline = undefined; // the spent timer would stay reachable for the user's whole stay
    if (aside.spent) this.occasional = undefined;
    this.refusals = LOGGED_IN;
  }

  /**
   * The chat's call: the own change this session waits for is back. What the user typed
   * meanwhile is taken up on the next turn (after what the change renders), but for a login that
   * did not apply: its name was claimed first elsewhere, and the user is asked again.
   */
  landed(landing: Landing, bytes = 0): void {
    const aside = this.occasional;
    if (this.refusals === LOGGED_IN && aside?.joining === undefined) this.charge(bytes); // a login's welcome is no command's
    if (aside?.held === undefined) return; // back inside publish: nothing waited
    const nick = aside.joining;
    // Any other change, applied or not (a /nick whose name went elsewhere first), lets them go on.
    if (nick === undefined || landing === 'applied') this.scheduler.schedule(() => this.resume());
    else if (aside.identified === nameKey(nick)) this.retake(aside, nick);
    else this.askAgain(aside, text.nameRefused(`username ${nick} is taken`));
  }

  /**
   * A login with the name's password that did not apply: whoever held the name left, or another
   * took it, meanwhile. The password holds: decided again, on the state now, it logs them in.
   */
  private retake(aside: Occasional, nick: string): void {
    const held = aside.held ?? [];
    const ended = aside.heldEnded;
    aside.held = undefined;
    aside.heldEnded = false;
    aside.joining = undefined;
    this.passwordGiven(nick);
    const again = this.occasional?.held; // held again: the new login is on its way back
    if (again === undefined) return;
    again.unshift(...held);
    aside.heldEnded ||= ended;
  }

  /** The user's login did not apply: what they typed meanwhile goes, and they are asked again. */
  private askAgain(aside: Occasional, why: string): void {
    const ended = aside.heldEnded;
    aside.held = undefined;
    aside.heldEnded = false;
    aside.joining = undefined;
    this.refuse({ events: [], replies: [why, text.PROMPT], quit: false });
    if (ended) this.close('eof');
  }

  /** Takes up, in order, what the user typed while their own change was on its way; the first line that holds them again holds the rest. */
  private resume(): void {
    const aside = this.occasional;
    const held = aside?.held;
    if (aside === undefined || held === undefined || this.out.closed) return;
    const { heldEnded, joining } = aside;
    aside.held = undefined;
    aside.heldEnded = false;
    aside.joining = undefined;
    if (joining !== undefined) this.enter(); // lets go of what the login held
    else if (aside.spent) this.occasional = undefined;
    // Typed before login, input is read as if typed now; paced after, it is decided now, or held
    // again behind a line that holds the user again. Neither holds the other's symbol.
    for (const input of held) {
      if (this.out.closed) return;
      if (joining !== undefined) {
        if (input !== LINES_DROPPED) this.read(input);
      } else if (input !== BUDGET_SPENT) this.paced(input);
    }
    if (heldEnded) this.inputEnded();
  }

  /** A refused username: the reason and the prompt again, or at the last attempt the reason and the close. */
  private refuse(decision: Decision): void {
    if (++this.refusals < this.options.maxNameAttempts) {
      this.carryOut(decision);
      return;
    }
    for (const reply of decision.replies) if (reply !== text.PROMPT) this.send(reply);
    this.close('login_limit', text.TOO_MANY_NAME_ATTEMPTS);
  }

  private askPassword(nick: string): void {
    if (!this.passwordsAllowed()) {
      this.send(text.nameNeedsTls(nick));
      this.send(text.PROMPT);
      return;
    }
    this.aside().awaitingPassword = nick;
    this.promptPassword();
  }

  /** The password prompt, what is typed at it hidden by the door where it can. */
  private promptPassword(): void {
    this.conceal(true);
    this.send(text.PASSWORD_PROMPT);
  }

  /** Tells the door to hide what the user types from now on, or to show it again. */
  private conceal(hidden: boolean): void {
    const aside = this.aside();
    if (aside.concealed === hidden) return;
    aside.concealed = hidden;
    this.out.next({ kind: 'conceal', to: this.id, hidden });
  }

  /** False, with no warning, when passwords need TLS and this connection is plain; else warns
   * a plain connection once. */
  private passwordsAllowed(): boolean {
    if (this.secure) return true;
    if (this.options.requireTlsForPasswords) return false;
    const aside = this.aside();
    if (!aside.warned) this.send(text.PASSWORD_IN_CLEAR);
    aside.warned = true;
    return true;
  }

  private checkPassword(nick: string, input: Paced): void {
    const password = input === OVERLONG_LINE ? '' : cleanText(input).trim();
    // Its line is read: shown again now, so that a telnet client, which stops turning "\n" into
    // "\r\n" while it does not echo, shows the answer's lines whole, and has answered by the next prompt.
    this.conceal(false);
    const aside = this.aside();
    this.await(this.accounts.verify(nick, password, aside.from), 'failed', (verdict) => {
      if (verdict === 'right') return this.passwordGiven(nick);
      if (verdict === 'failed' || verdict === 'displaced') {
        this.askName(aside, verdict === 'failed' ? text.CHECK_FAILED : text.nameDisplaced(nick));
        return aside.timedOut ? this.timeOut() : undefined; // past the deadline, no other would come
      }
      const unchecked = verdict === 'unchecked';
      if (unchecked) aside.uncheckedPasswords += 1;
      else aside.wrongPasswords += 1;
      this.send(unchecked ? text.PASSWORD_UNCHECKED : text.WRONG_PASSWORD);
      if (aside.timedOut) return this.timeOut();
      if (aside.uncheckedPasswords >= MAX_UNCHECKED_TRIES) this.close('login_limit', text.TOO_MANY_PASSWORD_TRIES);
      else if (aside.wrongPasswords >= MAX_PASSWORD_TRIES) this.close('wrong_password', text.TOO_MANY_PASSWORD_TRIES);
      else this.promptPassword();
    });
  }

  /** The password could not be checked, or is that of an account that lost the name: `why`, and
   * the user may give a username again, as after a refused one. */
  private askName(aside: Occasional, why: string): void {
    aside.awaitingPassword = undefined;
    this.refuse({ events: [], replies: [why, text.PROMPT], quit: false });
  }

  /** The name may have been taken while its password was checked: then the prompt again, unless
   * it is registered, when the password takes it over. */
  private passwordGiven(nick: string): void {
    this.aside().awaitingPassword = undefined;
    const decision = this.loginDecision(nick, this.accounts.accountOf(nick) ?? '');
    this.admit(decision);
    if (decision.events.length > 0) this.identify(nick);
    else if (this.occasional?.timedOut === true) this.timeOut(); // no second deadline to wait for
  }

  /** The user gave `nick`'s password: the chat learns it, and makes them an operator if `nick` is one's. */
  private identify(nick: string): void {
    this.aside().identified = nameKey(nick);
    const account = this.accounts.accountOf(nick);
    this.seat.bus.publish({ type: 'identified', user: this.id, nick, at: this.scheduler.now(), ...(account === undefined ? {} : { account }) });
  }

  /** Runs `handle` with the one value of `answer$` (`failed` if it errors), after this session's
   * other work: the session reads no line meanwhile (at login) or takes no other account change. */
  private await<T>(answer$: Observable<T>, failed: T, handle: (value: T) => void): void {
    const aside = this.aside();
    let answered = false;
    // An error left unhandled in a subscription is thrown from a timer, which ends the process.
    const subscription = answer$.pipe(take(1), catchError(() => of(failed))).subscribe((value) => {
      answered = true;
      aside.pending = undefined;
      try {
        handle(value);
      } catch {
        this.out.complete(); // as in next(): the answer comes from a timer or a promise
      }
    });
    if (!answered) aside.pending = subscription;
  }

  private changeAccount(asked: AccountRequest): void {
    if (this.occasional?.pending !== undefined) return this.send(text.ACCOUNT_BUSY);
    const request = unregisterRequest(asked, (name) => this.accounts.registered(name));
    if (request.kind !== 'release' && !this.passwordsAllowed()) return this.send(text.PASSWORDS_NEED_TLS);
    this.await(this.accounts.change(request, this.aside().from), 'failed', (outcome) => {
      // The outcome first: what the identification renders ("you are an operator") comes back
      // at once from a node's own bus and later from a cluster's, and follows it either way.
      this.send(text.accountOutcome(request.kind, outcome, request.name));
      if (outcome === 'done' && request.kind === 'register') this.identify(request.name);
      else if (outcome === 'done' && request.kind !== 'release') this.aside().identified = request.kind === 'unregister' ? undefined : nameKey(request.name);
    });
  }

  /** Replies first, then the events, whose renderings come back through the bus. Returns the bytes of the replies. */
  private carryOut(decision: Decision): number {
    const { replies, events, quit, account, banned, stats } = decision;
    const renamed = events.find((event) => event.type === 'renamed');
    if (renamed !== undefined && renamed.displaced !== true && this.accounts.registered(renamed.nick) && nameKey(renamed.nick) !== this.occasional?.identified) {
      this.send(text.nameRegistered(renamed.nick));
      return 0; // one short line: it costs no more than the line that asked
    }
    let bytes = 0;
    for (const reply of replies) {
      this.send(reply);
      bytes += utf8Bytes(reply);
    }
    for (const event of events) this.publish(event);
    if (account !== undefined) this.changeAccount(account);
    if (stats === true) {
      for (const line of this.seat.stats?.() ?? ['no figures on this server']) {
        this.send(text.reply(line));
        bytes += utf8Bytes(line);
      }
    }
    if (quit) this.close('quit');
    else if (banned === true) this.close('banned');
    return bytes;
  }

  /** What a line made the server write to this user alone counts against their pace (REPLY_BYTES_PER_LINE). */
  private charge(bytes: number): void {
    const lines = replyCost(bytes, this.options.rateLimits.replyBytesPerLine);
    if (lines > 0) this.pacing().charge(lines);
  }

  /**
   * Publishes `event`. An own change of the user (isOwnChange) that does not come back inside
   * `publish` holds their later lines until it does: they are decided on the state it makes.
   */
  private publish(event: ChatEvent): void {
    const { bus, waits } = this.seat;
    if (waits === undefined || !isOwnChange(event)) return bus.publish(event);
    waits.set(this.id, this);
    bus.publish(event);
    if (waits.get(this.id) === this) this.aside().held ??= [];
  }

  private timeOut(): void {
    const aside = this.occasional;
    // A password given in time is checked, however long guessing elsewhere makes it wait (a bounded while).
    if (aside?.awaitingPassword !== undefined && aside.pending !== undefined) aside.timedOut = true;
    else this.close('login_timeout', aside?.promptWaiting === true ? text.besidePrompt(text.LOGIN_TIMED_OUT) : text.LOGIN_TIMED_OUT);
  }

  /** Says why, if there is more to say, and asks for the connection to be closed. */
  private close(reason: CloseReason, why?: string): void {
    if (this.occasional?.concealed === true) this.conceal(false); // no door stays hiding after its connection
    if (why !== undefined) this.send(why);
    this.out.next({ kind: 'close', to: this.id, reason });
    this.out.complete();
  }

  private send(line: string): void {
    if (this.occasional !== undefined) this.occasional.promptWaiting = !line.endsWith('\n');
    this.out.next({ kind: 'send', to: this.id, text: line });
  }
}
