import type { SchedulerLike } from 'rxjs';
import type { AccountOutcome, AccountRequest, Verdict } from './accounts';
import type { Decision } from './decision';
import type { UserId } from './events';
import type { Intent } from './intent';
import type { Outgoing } from './outgoing';
import type { SessionOptions } from './session-options';
import type { InputTally } from './input-tally';

/**
 * What a session asks of the chat's loop, beside what it sends its user: an intent to decide, a
 * password to check (from the peer's address, which wrong passwords slow down), an account
 * change to make. Each is answered with Answers delivered to `inbox`, its reply address: the
 * loop keeps no table of sessions.
 */
export type Ask =
  | { readonly kind: 'decide'; readonly intent: Intent; readonly inbox: Inbox }
  | { readonly kind: 'verify'; readonly user: UserId; readonly name: string; readonly password: string; readonly from: string; readonly inbox: Inbox }
  | { readonly kind: 'change'; readonly user: UserId; readonly request: AccountRequest; readonly inbox: Inbox };

/** What a session's Observable emits: what its user is sent, and what it asks. */
export type SessionOutput = Outgoing | Ask;

/**
 * What the loop answers a session: what decide made of an intent (`decided`: its replies come
 * first, then its events go to the bus), that an intent is done with (`done`: its events are
 * published, or it waited for a login that did not apply; `dropped`: too many waited for an own
 * change), an own change of the user's back from the bus (with the bytes it wrote to them alone,
 * and whether it applied), what the accounts driver said, and a fault in deciding (`failed`).
 */
export type Answer =
  | { readonly kind: 'decided'; readonly decision: Decision }
  | { readonly kind: 'done' }
  | { readonly kind: 'dropped' }
  | { readonly kind: 'landed'; readonly applied: boolean; readonly bytes: number }
  | { readonly kind: 'verdict'; readonly name: string; readonly verdict: Verdict }
  | { readonly kind: 'outcome'; readonly request: AccountRequest; readonly outcome: AccountOutcome }
  | { readonly kind: 'failed' };


/** Where the loop delivers what it answers a session, as the fan-out delivers to a socket. */
export interface Inbox {
  answer(answer: Answer): void;
}

/** What every session of a chat shares: its options, its clock, and where it counts input. */
export interface Ground {
  readonly options: SessionOptions;
  readonly scheduler: SchedulerLike;
  readonly tally: InputTally | undefined;
}
