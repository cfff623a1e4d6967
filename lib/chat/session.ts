import { Observable } from 'rxjs';
import type { AccountRequest } from './accounts';
import type { Answer, Ground, Inbox, SessionOutput } from './asks';
import { asTyped } from './commands';
import type { Connection } from './connection';
import type { Decision } from './decision';
import type { UserId } from './events';
import { BUDGET_SPENT, type Input, INPUT_ENDED, OVERLONG_LINE, type Received } from './input';
import { type Caller, type Intent, NO_TRIES } from './intent';
import { Occasional } from './occasional';
import { LINES_DROPPED, Pace, type PaceSink, replyCost } from './pace';
import { cleanText } from './sanitize';
import { SessionWriter } from './session-writer';
import * as text from './texts';
import { utf8Bytes } from './utf8';

/** What the pacing holds: the lines of a logged-in user. */
type Paced = string | typeof OVERLONG_LINE;

/**
 * Each connection of one chat, from greeting to its end. Before login each line is a username
 * attempt; after it, every non-blank line is cleaned, paced, and asked of the loop as an intent
 * (chat or command). The session checks no rule: what it emits is what its user is sent and what
 * it asks (Ask); what the loop answers (the decision's replies, a close, a password's verdict)
 * comes into its Inbox. Completes when the input ends (INPUT_ENDED, or completion without it: once
 * the user's delayed lines are out and every line asked is answered), at once when it errors (a
 * user's error is their disconnect, not the room's) or completes after INPUT_ENDED (the connection
 * was lost after its peer's end: what still waits would flood the room from a user no longer
 * there), at a decision that closes it, or at the login deadline or the input's BUDGET_SPENT
 * before login; never errors. The departure is the chat's: it sees the completion.
 */
export function sessions(ground: Ground): (connection: Connection) => Observable<SessionOutput> {
  return ({ id, input$, secure, from, keys }) =>
    new Observable<SessionOutput>((subscriber) => {
      const life = new Session(id, secure === true, keys, ground, subscriber);
      life.start(input$, from ?? '');
      return life;
    });
}

/**
 * A session's state and handlers in one object, written below the operators it would
 * otherwise be made of: one lives for every connection, idle or not (bench/README.md has what
 * an operator chain per user cost). It holds no more than an idle logged-in user needs.
 */
class Session extends SessionWriter implements PaceSink<Paced>, Inbox {
  // Its login came back applied: its lines are its user's from now on.
  private loggedIn = false;
  // Intents asked of the loop and not answered yet: they may wait for an own change of the user.
  private asked = 0;
  // Made for the user's first line: a full bucket then is what one made at login would hold,
  // and an idle user, the most common kind, holds none.
  private pace: Pace<Paced> | undefined;
  // The peer has ended its side: what it sent is still paced out, unless the socket is lost first.
  private peerEnded = false;

  start(input$: Observable<Input>, from: string): void {
    this.occasional = new Occasional(from);
    this.send(text.greeting(this.options.banner));
    this.send(text.PROMPT);
    this.occasional.deadline = this.scheduler.schedule(() => this.timeOut(), this.options.loginTimeoutMs);
    input$.subscribe(this); // as its own subscriber: unsubscribe() ends the reading with the rest
  }

  /** Teardown: whichever way the session ends, it stops reading, timing and pacing (and takes no more answers: `out` is closed). */
  override unsubscribe(): void {
    this.occasional?.deadline?.unsubscribe();
    this.stopReading();
    this.pace?.stop();
  }

  override next(input: Input): void {
    if (this.closed) return;
    if (input === INPUT_ENDED) {
      this.peerEnded = true;
      return this.inputEnded();
    }
    this.ground.tally?.count(input);
    if (typeof input === 'string' && this.occasional !== undefined) this.occasional.promptWaiting = false;
    this.read(input);
  }

  override error(): void {
    if (this.closed) return;
    this.stopReading();
    this.out.complete();
  }

  override complete(): void {
    if (this.closed) return;
    this.stopReading();
    // Closed after the peer's end, with lines of theirs still waiting: the connection was lost.
    if (this.peerEnded) this.out.complete();
    else this.inputEnded();
  }

  /** The loop's answer to what this session asked, or news of its user's own change. */
  answer(answer: Answer): void {
    if (this.out.closed) return;
    try {
      if (answer.kind === 'decided') this.decided(answer.decision);
      else if (answer.kind === 'done' || answer.kind === 'dropped') this.answered(answer.kind === 'dropped');
      else if (answer.kind === 'landed') this.landed(answer.applied, answer.bytes);
      else if (answer.kind === 'verdict') this.settled({ type: 'password-checked', name: answer.name, verdict: answer.verdict, ...this.asking() });
      else if (answer.kind === 'outcome') this.settled({ type: 'account-changed', user: this.id, request: answer.request, outcome: answer.outcome, at: this.scheduler.now() });
      else this.out.complete(); // deciding failed
    } catch {
      this.out.complete(); // a fault in one user's session is their disconnect, not the process's end
    }
  }

  private read(input: Received): void {
    try {
      if (!this.loggedIn && this.occasional?.joining === undefined) this.logIn(input);
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
    if (this.pace === undefined) this.finish();
    else this.pace.end();
  }

  paced(input: Paced | typeof LINES_DROPPED): void {
    try {
      if (input === OVERLONG_LINE) this.send(text.lineTooLong(this.options.maxLineBytes));
      else if (input === LINES_DROPPED) this.send(text.SLOW_DOWN);
      else this.ask({ type: 'line', user: this.id, text: input, at: this.scheduler.now(), caller: this.caller(), busy: this.occasional?.pending === true });
    } catch {
      this.out.complete(); // as in next(): a delayed line runs from a timer, where a throw would end the process
    }
  }

  drained(): void {
    this.finish();
  }

  dropped(): void {
    if (this.ground.tally !== undefined) this.ground.tally.flooded += 1;
  }

  /** The input is over and its lines are out: the connection closes once every line asked is answered. */
  private finish(): void {
    if (this.asked === 0 && this.occasional?.joining === undefined) return this.close('eof');
    this.aside().ended = true;
  }

  private pacing(): Pace<Paced> {
    return (this.pace ??= new Pace(this.options.rateLimits, this, this.scheduler));
  }

  private logIn(input: Received): void {
    if (input === BUDGET_SPENT) return this.close('login_limit', text.tooMuchLoginInput(this.options.maxLoginBytes));
    const aside = this.aside();
    if (aside.pending) return; // typed before the password's check answered
    const awaiting = aside.awaitingPassword;
    if (awaiting !== undefined) return this.checkPassword(aside, awaiting, input);
    const at = this.scheduler.now();
    const caller = this.caller();
    if (input === OVERLONG_LINE) return this.ask({ type: 'overlong-name', user: this.id, at, caller });
    const { from } = aside;
    this.ask({ type: 'login', user: this.id, name: input, at, caller, ...(from === '' ? {} : { from }) });
  }

  private ask(intent: Intent): void {
    this.asked += 1;
    this.out.next({ kind: 'decide', intent, inbox: this });
  }

  /** The answer of a check or change this session waited for, as an intent to decide. */
  private settled(intent: Intent): void {
    this.aside().pending = false;
    this.ask(intent);
  }

  private checkPassword(aside: Occasional, name: string, input: Paced): void {
    const password = input === OVERLONG_LINE ? '' : cleanText(input).trim();
    // Its line is read: shown again now, so that a telnet client, which stops turning "\n" into
    // "\r\n" while it does not echo, shows the answer's lines whole, and has answered by the next prompt.
    this.conceal(false);
    aside.awaitingPassword = undefined;
    aside.pending = true;
    this.out.next({ kind: 'verify', user: this.id, name, password, from: aside.from, inbox: this });
  }

  /** What every login intent carries: who asks, when, from where, and whether the login deadline passed. */
  private asking(): { user: UserId; at: number; caller: Caller; late: boolean; from?: string } {
    const { from, timedOut } = this.aside();
    return { user: this.id, at: this.scheduler.now(), caller: this.caller(), late: timedOut, ...(from === '' ? {} : { from }) };
  }

  /**
   * Carries out what decide made of an intent: replies first (the events follow through the
   * bus, and come back rendered), what the connection tried, a password to ask for, an account
   * change to make, the close. A login let in waits for its join to come back.
   */
  private decided(decision: Decision): void {
    const { replies, events, quit, account, banned, tries, password, close } = decision;
    if (tries !== undefined) this.aside().tries = tries;
    if (password !== undefined) this.aside().awaitingPassword = password;
    let bytes = 0;
    for (const reply of replies) {
      if (password !== undefined && reply === text.PASSWORD_PROMPT) this.conceal(true); // what is typed at it, hidden by the door where it can
      this.send(reply);
      bytes += utf8Bytes(reply);
    }
    if (account !== undefined) this.changeAccount(account);
    if (quit) return this.close('quit');
    if (banned === true) return this.close('banned');
    if (close !== undefined) return this.close(close);
    const login = this.loggedIn ? undefined : events.find((event) => event.type === 'joined' || event.type === 'resumed');
    if (login !== undefined) this.aside().joining = login.nick;
    else if (this.loggedIn) this.charge(bytes);
  }

  /** One more intent done with (`dropped`: as a flood): the connection closes now if its input ended and nothing waits. */
  private answered(dropped: boolean): void {
    if (dropped) this.dropped();
    this.asked -= 1;
    if (this.loggedIn && this.occasional?.spent === true) this.occasional = undefined; // an account change over
    this.closeIfOver();
  }

  private closeIfOver(): void {
    if (this.asked === 0 && this.occasional?.ended === true && this.occasional.joining === undefined) this.close('eof');
  }

  /**
   * An own change of the user is back from the bus. Their login, applied, lets them in; not
   * applied (its name was claimed first elsewhere), it is decided again. Any other change costs
   * them what it wrote to them alone (a room's history on `/join`); a login's welcome is no command's.
   */
  private landed(applied: boolean, bytes: number): void {
    const aside = this.occasional;
    const name = aside?.joining;
    if (aside === undefined || name === undefined) return this.charge(bytes);
    aside.joining = undefined;
    if (applied) return this.enter();
    this.ask({ type: 'login-unapplied', name, ...this.asking() });
  }

  private enter(): void {
    const aside = this.aside();
    aside.deadline?.unsubscribe();
    aside.deadline = undefined; // the spent timer would stay reachable for the user's whole stay
    aside.tries = aside.tries.warned ? { ...NO_TRIES, warned: true } : NO_TRIES; // a logged-in user's tries count no more
    this.loggedIn = true;
    if (aside.ended) this.closeIfOver();
    else if (aside.spent) this.occasional = undefined;
  }

  private changeAccount(request: AccountRequest): void {
    this.aside().pending = true;
    this.out.next({ kind: 'change', user: this.id, request, inbox: this });
  }

  /** What a line made the server write to this user alone counts against their pace (REPLY_BYTES_PER_LINE). */
  private charge(bytes: number): void {
    const lines = replyCost(bytes, this.options.rateLimits.replyBytesPerLine);
    if (lines > 0) this.pacing().charge(lines);
  }

  private timeOut(): void {
    const aside = this.occasional;
    // A password given in time is checked, however long guessing elsewhere makes it wait (a bounded while).
    if (aside?.pending === true && !this.loggedIn) aside.timedOut = true;
    else this.close('login_timeout', aside?.promptWaiting === true ? text.besidePrompt(text.LOGIN_TIMED_OUT) : text.LOGIN_TIMED_OUT);
  }

}
