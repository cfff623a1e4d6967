import { asyncScheduler, Observable, type Observer, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import type { Bus } from '../bus/bus';
import { BUDGET_SPENT, type Input, MAX_LINE_BYTES, OVERLONG_LINE } from '../edge/lines';
import { type Decision, decide } from './decide';
import { MAX_NAME_LENGTH } from './names';
import type { Connection, Outgoing } from './outgoing';
import { DEFAULT_RATE_LIMITS, LINES_DROPPED, Pace, type PaceSink, type RateLimits } from './pace';
import { cleanText } from './sanitize';
import type { ChatState } from './state';
import * as text from './texts';

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

/** Default for the usernames a connection may have refused; at the last, it is closed. */
export const MAX_NAME_ATTEMPTS = 10;

/** Default for the bytes a connection may send before it logs in; past them, it is closed. */
export const MAX_LOGIN_BYTES = 64 * 1024;

/** How each connection is served, from its greeting on. */
export interface SessionOptions {
  readonly banner: string;
  readonly maxLineBytes: number;
  readonly loginTimeoutMs: number;
  readonly maxNameAttempts: number;
  /** The byte budget of the connection's input (lines.ts's BUDGET_SPENT); it binds before login alone. */
  readonly maxLoginBytes: number;
  readonly rateLimits: RateLimits;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  banner: text.DEFAULT_BANNER,
  maxLineBytes: MAX_LINE_BYTES,
  loginTimeoutMs: LOGIN_TIMEOUT_MS,
  maxNameAttempts: MAX_NAME_ATTEMPTS,
  maxLoginBytes: MAX_LOGIN_BYTES,
  rateLimits: DEFAULT_RATE_LIMITS,
};

/** `Session.refusals` once the user is logged in. */
const LOGGED_IN = -1;

const NAME_TOO_LONG: Decision = {
  events: [],
  replies: [text.nameRefused(`username too long (max ${MAX_NAME_LENGTH} characters)`), text.PROMPT],
  quit: false,
};

/** What the pacing holds: the lines of a logged-in user. */
type Paced = string | typeof OVERLONG_LINE;

/** The chat as a session sees it: the state to decide from, and the bus its events go to. */
export interface Seat {
  readonly state: ChatState;
  readonly bus: Bus;
}

/**
 * One connection from greeting to its end. Before login each line is a username attempt; after
 * it, every non-blank line is cleaned, paced, and decided on (chat or command). The decision's
 * replies are this Observable's values; its events go to the bus, and come back rendered.
 * Completes when the input ends (once the user's delayed lines are out), when it errors (a
 * user's error is their disconnect, not the room's), at `/quit`, at the login deadline, at the
 * last refused username or at the input's BUDGET_SPENT before login; never errors. The
 * departure is the chat's: it sees the completion.
 */
export function session(
  { id, input$ }: Connection,
  seat: Seat,
  options: SessionOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<Outgoing> {
  return new Observable<Outgoing>((subscriber) => {
    const life = new Session(id, seat, options, subscriber, scheduler);
    life.start(input$);
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
  private deadline: Subscription | undefined;
  private input: Subscription | undefined;
  // Made for the user's first line: a full bucket then is what one made at login would hold,
  // and an idle user, the most common kind, holds none.
  private pace: Pace<Paced> | undefined;

  constructor(
    private readonly id: string,
    private readonly seat: Seat,
    private readonly options: SessionOptions,
    private readonly out: Subscriber<Outgoing>,
    private readonly scheduler: SchedulerLike,
  ) {}

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
    this.pace?.stop();
  }

  next(input: Input): void {
    try {
      if (this.refusals !== LOGGED_IN) this.logIn(input);
      else if (input === BUDGET_SPENT) return; // the budget binds before login alone
      else if (input === OVERLONG_LINE) this.pacing().push(input);
      else {
        const line = cleanText(input);
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
    if (this.pace === undefined) this.out.complete();
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
    this.out.complete();
  }

  private pacing(): Pace<Paced> {
    return (this.pace ??= new Pace(this.options.rateLimits, this, this.scheduler));
  }

  private logIn(input: Input): void {
    if (input === BUDGET_SPENT) return this.close(text.tooMuchLoginInput(this.options.maxLoginBytes));
    const decision =
      input === OVERLONG_LINE
        ? NAME_TOO_LONG
        : decide(this.seat.state, { type: 'login', user: this.id, name: input, at: this.scheduler.now() });
    if (decision.events.length === 0) return this.refuse(decision);
    this.deadline?.unsubscribe();
    this.deadline = undefined; // the spent timer would stay reachable for the user's whole stay
    this.refusals = LOGGED_IN;
    this.carryOut(decision);
  }

  /** A refused username: the reason and the prompt again, or at the last attempt the reason and the close. */
  private refuse(decision: Decision): void {
    if (++this.refusals < this.options.maxNameAttempts) return this.carryOut(decision);
    for (const reply of decision.replies) if (reply !== text.PROMPT) this.send(reply);
    this.close(text.TOO_MANY_NAME_ATTEMPTS);
  }

  /** Replies first, then the events, whose renderings come back through the bus. */
  private carryOut({ replies, events, quit }: Decision): void {
    for (const reply of replies) this.send(reply);
    for (const event of events) this.seat.bus.publish(event);
    if (!quit) return;
    this.out.next({ kind: 'close', to: this.id });
    this.out.complete();
  }

  private timeOut(): void {
    this.close(text.LOGIN_TIMED_OUT);
  }

  /** Says why, and asks for the connection to be closed. */
  private close(why: string): void {
    this.send(why);
    this.out.next({ kind: 'close', to: this.id });
    this.out.complete();
  }

  private send(line: string): void {
    this.out.next({ kind: 'send', to: this.id, text: line });
  }
}
