import { asyncScheduler, Observable, type Observer, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import type { Bus } from '../bus/bus';
import { type Input, MAX_LINE_BYTES, OVERLONG_LINE } from '../edge/lines';
import { type Decision, decide } from './decide';
import { MAX_NAME_LENGTH } from './names';
import type { Connection, Outgoing } from './outgoing';
import { DEFAULT_RATE_LIMITS, LINES_DROPPED, Pace, type PaceSink, type RateLimits } from './pace';
import { cleanText } from './sanitize';
import type { UserId } from './events';
import type { ChatState } from './state';
import * as text from './texts';

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

/** How each connection is served, from its greeting on. */
export interface SessionOptions {
  readonly banner: string;
  readonly maxLineBytes: number;
  readonly loginTimeoutMs: number;
  readonly rateLimits: RateLimits;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  banner: text.DEFAULT_BANNER,
  maxLineBytes: MAX_LINE_BYTES,
  loginTimeoutMs: LOGIN_TIMEOUT_MS,
  rateLimits: DEFAULT_RATE_LIMITS,
};

/** Sessions waiting for their join to come back from the bus, told whether it applied. */
export type Joins = Map<UserId, (applied: boolean) => void>;

/** Lines a user may type while their join is on its way; more are dropped. */
export const MAX_LINES_WHILE_JOINING = 100;

/**
 * The chat as a session sees it: the state to decide from, and the bus its events go to. On a
 * bus that hands events back later (Redis), `joins` is where a session waits to learn whether
 * its name was claimed first elsewhere.
 */
export interface Seat {
  readonly state: ChatState;
  readonly bus: Bus;
  readonly joins?: Joins;
}

/**
 * One connection from greeting to its end. Before login each line is a username attempt; after
 * it, every non-blank line is cleaned, paced, and decided on (chat or command). The decision's
 * replies are this Observable's values; its events go to the bus, and come back rendered.
 * Completes when the input ends (once the user's delayed lines are out), when it errors (a
 * user's error is their disconnect, not the room's), at `/quit` or at the login deadline; never
 * errors. The departure is the chat's: it sees the completion.
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
class Session implements Observer<Input>, PaceSink<Input> {
  private loggedIn = false;
  // Lines typed while the user's join is on the bus, and whether the input ended meanwhile.
  private joining: Input[] | undefined;
  private endedWhileJoining = false;
  private deadline: Subscription | undefined;
  private input: Subscription | undefined;
  // Made for the user's first line: a full bucket then is what one made at login would hold,
  // and an idle user, the most common kind, holds none.
  private pace: Pace<Input> | undefined;

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
      if (this.joining !== undefined) {
        if (this.joining.length < MAX_LINES_WHILE_JOINING) this.joining.push(input);
      } else if (!this.loggedIn) this.logIn(input);
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
    if (this.joining !== undefined) this.endedWhileJoining = true;
    else if (this.pace === undefined) this.out.complete();
    else this.pace.end();
  }

  paced(input: Input | typeof LINES_DROPPED): void {
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

  private pacing(): Pace<Input> {
    return (this.pace ??= new Pace(this.options.rateLimits, this, this.scheduler));
  }

  private logIn(input: Input): void {
    if (input === OVERLONG_LINE) {
      this.send(text.nameRefused(`username too long (max ${MAX_NAME_LENGTH} characters)`));
      this.send(text.PROMPT);
      return;
    }
    const decision = decide(this.seat.state, { type: 'login', user: this.id, name: input, at: this.scheduler.now() });
    this.carryOut(decision);
    if (decision.events.length === 0) return;
    const { joins } = this.seat;
    if (joins === undefined || this.seat.state.user(this.id) !== undefined) this.enter();
    else {
      this.joining = [];
      joins.set(this.id, (applied) => this.settle(applied, input.trim()));
    }
  }

  private enter(): void {
    this.deadline?.unsubscribe();
    this.deadline = undefined; // the spent timer would stay reachable for the user's whole stay
    this.loggedIn = true;
  }

  /**
   * The user's join came back: either they are in, and what they typed meanwhile is decided
   * on the next turn (after the welcome the join renders), or their name was claimed first
   * elsewhere and they are asked again.
   */
  private settle(applied: boolean, nick: string): void {
    if (!applied) {
      this.joining = undefined;
      this.send(text.nameRefused(`username ${nick} is taken`));
      this.send(text.PROMPT);
      if (this.endedWhileJoining) this.out.complete();
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

  /** Replies first, then the events, whose renderings come back through the bus. */
  private carryOut({ replies, events, quit }: Decision): void {
    for (const reply of replies) this.send(reply);
    for (const event of events) this.seat.bus.publish(event);
    if (!quit) return;
    this.out.next({ kind: 'close', to: this.id });
    this.out.complete();
  }

  private timeOut(): void {
    this.send(text.LOGIN_TIMED_OUT);
    this.out.next({ kind: 'close', to: this.id });
    this.out.complete();
  }

  private send(line: string): void {
    this.out.next({ kind: 'send', to: this.id, text: line });
  }
}
