import { asyncScheduler, Observable, type Observer, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import type { Bus } from '../bus/bus';
import { type Input, MAX_LINE_BYTES, OVERLONG_LINE } from '../edge/lines';
import { readLine } from './commands';
import { type Decision, decide } from './decide';
import { MAX_NAME_LENGTH } from './names';
import type { Connection, Outgoing } from './outgoing';
import { DEFAULT_RATE_LIMITS, LINES_DROPPED, Pace, type PaceSink, type RateLimits } from './pace';
import { cleanText } from './sanitize';
import type { ChatState } from './state';
import type { InputTally } from './tally';
import * as text from './texts';

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

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
  readonly rateLimits: RateLimits;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  banner: text.DEFAULT_BANNER,
  maxLineBytes: MAX_LINE_BYTES,
  loginTimeoutMs: LOGIN_TIMEOUT_MS,
  rateLimits: DEFAULT_RATE_LIMITS,
};

/** The chat as a session sees it: the state to decide from, the bus its events go to, and
 * where it counts its input for the node's metrics, if anywhere. */
export interface Seat {
  readonly state: ChatState;
  readonly bus: Bus;
  readonly tally?: InputTally;
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
    this.seat.tally?.count(input);
    try {
      if (!this.loggedIn) this.logIn(input);
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
    if (this.pace === undefined) this.out.complete();
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

  dropped(): void {
    if (this.seat.tally !== undefined) this.seat.tally.flooded += 1;
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
    if (decision.events.length > 0) {
      this.deadline?.unsubscribe();
      this.deadline = undefined; // the spent timer would stay reachable for the user's whole stay
      this.loggedIn = true;
    }
    this.carryOut(decision);
  }

  /** Replies first, then the events, whose renderings come back through the bus. */
  private carryOut({ replies, events, quit }: Decision): void {
    for (const reply of replies) this.send(reply);
    for (const event of events) this.seat.bus.publish(event);
    if (!quit) return;
    this.out.next({ kind: 'close', to: this.id, reason: 'quit' });
    this.out.complete();
  }

  private timeOut(): void {
    this.send(text.LOGIN_TIMED_OUT);
    this.out.next({ kind: 'close', to: this.id, reason: 'login_timeout' });
    this.out.complete();
  }

  private send(line: string): void {
    this.out.next({ kind: 'send', to: this.id, text: line });
  }
}
