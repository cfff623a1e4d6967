import type { Inbox } from './asks';
import type { Intent } from './intent';
import type { UserId } from './events';

/** Lines a user may type while an own change of theirs (login, `/join`, `/nick`...) is on its way; more are dropped. */
export const MAX_HELD_LINES = 100;

/** A user's own change on its way back from the bus: whether it is their login, what they asked meanwhile, whether it is back (what waited goes on the next turn), and whether they left meanwhile. */
interface InFlight {
  readonly login: boolean;
  readonly inbox: Inbox;
  held: Intent[] | undefined;
  back: boolean;
  leaving: boolean;
}

/** What waited for a user's own change, once it is back. */
export interface Landing {
  /** Where their session takes what the loop answers. */
  readonly inbox: Inbox;
  /** The change was their login. */
  readonly login: boolean;
  /** Intents asked meanwhile: they go on the next turn (`release`), after what the change renders. */
  readonly waiting: boolean;
  /** Their session ended meanwhile: their departure is due now. */
  readonly leaving: boolean;
}

/**
 * Where a user's intents wait while an own change of theirs (isOwnChange) is on its way back from
 * the bus: they are decided on the state it makes, in order, once it is back. On a bus that hands
 * events back at once, the change is back before anything could wait. An entry lives only while
 * a change is on its way, or back with what waited for it not yet released.
 */
export class Gate {
  private readonly inFlight = new Map<UserId, InFlight>();

  /** `user`'s own change (`login`: their login) is about to be published; `inbox`: where their session takes answers. */
  expect(user: UserId, login: boolean, inbox: Inbox): void {
    if (!this.inFlight.has(user)) this.inFlight.set(user, { login, inbox, held: undefined, back: false, leaving: false });
  }

  /** The users whose own change is on its way (not yet back). */
  waiting(): UserId[] {
    return [...this.inFlight].flatMap(([user, entry]) => (entry.back ? [] : [user]));
  }

  /** True while `user`'s intents wait. */
  holds(user: UserId): boolean {
    return this.inFlight.has(user);
  }

  /** Keeps `intent` until `user`'s change is back; false when MAX_HELD_LINES wait already (it is dropped). */
  hold(user: UserId, intent: Intent): boolean {
    const entry = this.inFlight.get(user);
    if (entry === undefined) return false;
    const held = (entry.held ??= []);
    if (held.length >= MAX_HELD_LINES) return false;
    held.push(intent);
    return true;
  }

  /**
   * `user`'s session ended: true when their departure waits for their change to come back. One
   * back already waits for nothing: what it held goes with the session.
   */
  leaveAfter(user: UserId): boolean {
    const entry = this.inFlight.get(user);
    if (entry === undefined) return false;
    if (entry.back) {
      this.inFlight.delete(user);
      return false;
    }
    entry.leaving = true;
    return true;
  }

  /** `user`'s change is back: what waited for it, or undefined when nothing was on its way. What waits stays held until `release`. */
  landed(user: UserId): Landing | undefined {
    const entry = this.inFlight.get(user);
    if (entry === undefined || entry.back) return undefined;
    const { login, inbox, held, leaving } = entry;
    const waiting = held !== undefined && held.length > 0 && !leaving;
    if (waiting) entry.back = true;
    else this.inFlight.delete(user);
    return { inbox, login, waiting, leaving };
  }

  /** What waited for `user`'s change, back: the gate lets it go. */
  release(user: UserId): readonly Intent[] {
    const entry = this.inFlight.get(user);
    if (entry === undefined || !entry.back) return [];
    this.inFlight.delete(user);
    return entry.held ?? [];
  }

  /** Puts `held` before whatever waits for `user`'s change now on its way; false when none is. */
  holdFirst(user: UserId, held: readonly Intent[]): boolean {
    const entry = this.inFlight.get(user);
    if (entry === undefined || entry.back) return false;
    entry.held = [...held, ...(entry.held ?? [])];
    return true;
  }
}
