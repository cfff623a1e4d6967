import { Observable } from 'rxjs';

/** Default for the scrypt hashes computed at once (each takes one core about 50 ms): guessing cannot take every core. */
export const PASSWORD_CHECKS_AT_ONCE = 2;
/** Hashes that may wait for a turn, from everyone; one more is not computed (CHAT_CHECKS_BUSY). */
export const MAX_QUEUED_CHECKS = 64;
/** Hashes one address group may have waiting or running at once, so that one host cannot fill the queue. */
export const MAX_CHECKS_PER_ADDRESS = 4;

/** The queue, or the asker's share of it, is full: the hash was not computed. */
export class ChecksBusyError extends Error {
  readonly code = 'CHAT_CHECKS_BUSY';
}

interface Waiting {
  readonly owner: boolean;
  readonly start: () => void;
}

/**
 * Runs password hashes a few at a time, in the order asked, the others waiting in a bounded
 * queue with a bounded share per address group. An owner's hash (asked from an address that gave
 * the password before) goes first and is never refused for a full queue, only past its address's
 * share: a flood of guesses cannot keep owners out. A hash whose asker went away before its turn
 * is never computed.
 */
export class CheckQueue {
  private running = 0;
  private readonly waiting: Waiting[] = [];
  private readonly perGroup = new Map<string, number>(); // waiting or running, by address group

  constructor(
    private readonly atOnce = PASSWORD_CHECKS_AT_ONCE,
    private readonly maxQueued = MAX_QUEUED_CHECKS,
    private readonly maxPerGroup = MAX_CHECKS_PER_ADDRESS,
  ) {}

  /** `work$` once its turn comes, for `group`, ahead of the others when `owner`; errors with
   * ChecksBusyError at once when the queue or the group's share is full. Completes or errors as `work$` does. */
  run<T>(group: string, work$: Observable<T>, owner = false): Observable<T> {
    return new Observable<T>((subscriber) => {
      const held = this.perGroup.get(group) ?? 0;
      if (held >= this.maxPerGroup || (!owner && this.waiting.length >= this.maxQueued)) {
        subscriber.error(new ChecksBusyError('too many password checks at once'));
        return undefined;
      }
      this.perGroup.set(group, held + 1);
      let started = false;
      let inner: { unsubscribe(): void } | undefined;
      const waiting: Waiting = {
        owner,
        start: () => {
          started = true;
          this.running += 1;
          inner = work$.subscribe(subscriber);
        },
      };
      if (this.running < this.atOnce) waiting.start();
      else this.enqueue(waiting);
      return () => {
        inner?.unsubscribe();
        if (started) this.running -= 1;
        else this.waiting.splice(this.waiting.indexOf(waiting), 1);
        this.release(group);
        this.startNext();
      };
    });
  }

  /** Puts `waiting` last, or, an owner's, after the owners' already waiting. */
  private enqueue(waiting: Waiting): void {
    const firstOther = waiting.owner ? this.waiting.findIndex((each) => !each.owner) : -1;
    if (firstOther < 0) this.waiting.push(waiting);
    else this.waiting.splice(firstOther, 0, waiting);
  }

  private release(group: string): void {
    const held = (this.perGroup.get(group) ?? 1) - 1;
    if (held > 0) this.perGroup.set(group, held);
    else this.perGroup.delete(group);
  }

  private startNext(): void {
    while (this.running < this.atOnce) {
      const next = this.waiting.shift();
      if (next === undefined) return;
      next.start();
    }
  }
}
