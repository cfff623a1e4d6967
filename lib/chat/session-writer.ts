import type { SchedulerLike, Subscriber } from 'rxjs';
import type { Ground, SessionOutput } from './asks';
import type { UserId } from './events';
import type { Input } from './input';
import { InputSubscriber } from './input-subscriber';
import { type Caller, NO_TRIES } from './intent';
import { Occasional } from './occasional';
import type { CloseReason } from './outgoing';
import type { SessionOptions } from './session-options';

/**
 * What a session is and writes: its connection's id, whether it is encrypted, the chat's ground,
 * and its output (what its user is sent, the door told to hide their typing, the close). Session
 * (session.ts) reads and asks on top of it; one object per connection all the same, with the same
 * fields, so an idle user costs no more for the split.
 */
export abstract class SessionWriter extends InputSubscriber<Input> {
  // Made for what a session holds only at times (occasional.ts), let go once logged in with none of it left.
  protected occasional: Occasional | undefined;

  constructor(
    protected readonly id: UserId,
    protected readonly secure: boolean,
    protected readonly keys: readonly string[] | undefined,
    protected readonly ground: Ground,
    protected readonly out: Subscriber<SessionOutput>,
  ) {
    super();
  }

  protected get options(): SessionOptions {
    return this.ground.options;
  }

  protected get scheduler(): SchedulerLike {
    return this.ground.scheduler;
  }

  /** The occasional state, made again for a logged-in user when needed; the loop knows their address from then on. */
  protected aside(): Occasional {
    return (this.occasional ??= new Occasional(''));
  }

  /** Who this connection is, for decide: encrypted or not, under the chat's rules, with what it tried and the keys its door verified. */
  protected caller(): Caller {
    const caller = { secure: this.secure, rules: this.options, tries: this.occasional?.tries ?? NO_TRIES };
    return this.keys === undefined ? caller : { ...caller, keys: this.keys };
  }

  /** Says why, if there is more to say, and asks for the connection to be closed. */
  protected close(reason: CloseReason, why?: string): void {
    if (this.occasional?.concealed === true) this.conceal(false); // no door stays hiding after its connection
    if (why !== undefined) this.send(why);
    this.out.next({ kind: 'close', to: this.id, reason });
    this.out.complete();
  }

  /** Tells the door to hide what the user types from now on, or to show it again. */
  protected conceal(hidden: boolean): void {
    const aside = this.aside();
    if (aside.concealed === hidden) return;
    aside.concealed = hidden;
    this.out.next({ kind: 'conceal', to: this.id, hidden });
  }

  protected send(line: string): void {
    if (this.occasional !== undefined) this.occasional.promptWaiting = !line.endsWith('\n');
    this.out.next({ kind: 'send', to: this.id, text: line });
  }
}
