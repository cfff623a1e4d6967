import { asyncScheduler, Observable, type Observer, type SchedulerLike, type Subscriber, type Subscription } from 'rxjs';
import { type Input, OVERLONG_LINE } from '../edge/lines';
import { LINES_DROPPED, Pace, type PaceSink } from './pace';
import * as text from './texts';
import type { Connection, ConnectionId, Outgoing, RoomOptions } from './room';
import { cleanText, hasControl } from './sanitize';

/** The longest username, in characters. */
export const MAX_NICK_LENGTH = 32;

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

const NICK_TOO_LONG = `username too long (max ${MAX_NICK_LENGTH} characters)`;

/** The form two names share when they are the same user: `Bob` and `bob` are one. */
export const nickKey = (nick: string): string => nick.normalize('NFC').toLowerCase();

/** Why a username breaks the rules, or undefined when it keeps them; uniqueness aside. */
export function nickProblem(nick: string): string | undefined {
  if (nick.length === 0) return 'username must not be empty';
  if (hasControl(nick)) return 'username must not contain control characters';
  if (/\s/u.test(nick)) return 'username must not contain spaces';
  if ([...nick].length > MAX_NICK_LENGTH) return NICK_TOO_LONG;
  return undefined;
}

/** The room as one session sees it: which names are in use, and where a user enters. */
export interface Lobby {
  /** True when a logged-in user has this name key. */
  isTaken(key: string): boolean;
  /** Claims the name for the connection; called before anything of the user's is emitted. */
  enter(id: ConnectionId, nick: string, key: string): void;
}

type Attempt = { readonly refused: string } | { readonly nick: string; readonly key: string };

/** A username attempt checked against the rules and the names in use at this moment. */
function attempt(input: Input, lobby: Lobby): Attempt {
  if (input === OVERLONG_LINE) return { refused: NICK_TOO_LONG };
  const nick = input.trim();
  const problem = nickProblem(nick);
  if (problem !== undefined) return { refused: problem };
  const key = nickKey(nick);
  return lobby.isTaken(key) ? { refused: `username ${nick} is taken` } : { nick, key };
}

/**
 * One connection from greeting to its end. Before login each line is a username attempt,
 * checked against the rules and the lobby the moment it arrives; the accepted name enters the
 * lobby, and every non-empty line after it is cleaned, paced and broadcast.
 * Completes when the input ends (once the user's delayed lines are out), when it errors (a
 * user's error is their disconnect, not the room's), or at the login deadline; never errors.
 * The departure (leave line, the name freed) is the room's: it sees the completion.
 */
export function session(
  { id, input$ }: Connection,
  lobby: Lobby,
  options: RoomOptions,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<Outgoing> {
  return new Observable<Outgoing>((subscriber) => {
    const life = new Session(id, lobby, options, subscriber, scheduler);
    life.start(input$);
    return life;
  });
}

/**
 * A session's state and handlers in one object. Written below the operators it would otherwise
 * be made of: one lives for every connection, and an operator chain per user held ~17 KiB of
 * closures and subscribers (see the README's benchmark section).
 */
class Session implements Observer<Input>, PaceSink<Input> {
  private nick = ''; // set at login; a username is never empty
  private deadline: Subscription | undefined;
  private input: Subscription | undefined;
  // Made for the user's first line: a full bucket then is what one made at login would hold,
  // and an idle user, the most common kind, holds none.
  private pace: Pace<Input> | undefined;

  constructor(
    private readonly id: ConnectionId,
    private readonly lobby: Lobby,
    private readonly options: RoomOptions,
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
      if (this.nick === '') this.logIn(input);
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

  paced(input: Input | typeof LINES_DROPPED): void {
    try {
      if (input === OVERLONG_LINE) this.send(text.lineTooLong(this.options.maxLineBytes));
      else if (input === LINES_DROPPED) this.send(text.SLOW_DOWN);
      else this.out.next({ kind: 'broadcast', text: text.said(this.nick, input) });
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
    const result = attempt(input, this.lobby);
    if ('refused' in result) {
      this.send(text.nameRefused(result.refused));
      this.send(text.PROMPT);
      return;
    }
    const { nick, key } = result;
    this.deadline?.unsubscribe();
    this.deadline = undefined; // the spent timer would stay reachable for the user's whole stay
    this.nick = nick;
    this.lobby.enter(this.id, nick, key); // claimed before the next line of anyone's is read: no race for a name
    this.send(text.welcome(nick));
    this.out.next({ kind: 'admit', to: this.id, nick });
    this.out.next({ kind: 'broadcast', text: text.joined(nick) });
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
