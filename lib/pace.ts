import { asyncScheduler, Observable, type OperatorFunction, type SchedulerLike, Subscription } from 'rxjs';

/** Flood control for one user: a token bucket, and a bound on the lines it holds back. */
export interface RateLimits {
  /** Lines per second a user may send once their burst is spent. */
  readonly linesPerSecond: number;
  /** Lines a user may send at once after being quiet. */
  readonly burstLines: number;
  /** Held-back lines past which further lines are dropped. */
  readonly maxQueuedLines: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { linesPerSecond: 5, burstLines: 10, maxQueuedLines: 100 };

/** Stands in the output, once per burst, where lines start being dropped. */
export const LINES_DROPPED = Symbol('lines dropped');

/**
 * Paces values to `limits`: values over the rate are delayed, in order, not lost, while at most
 * `maxQueuedLines` wait; past that they are dropped and LINES_DROPPED is emitted once, until the
 * queue has drained. Completes when the source has completed and every delayed value is out;
 * errors at once when the source errors (the delayed values go with the connection).
 *
 * One subscriber per user and nothing allocated for a line within the rate: this runs for every
 * line of every user, so it is written below the operators it would otherwise be made of.
 */
export function pace<T>(
  limits: RateLimits,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, T | typeof LINES_DROPPED> {
  const msPerLine = 1000 / limits.linesPerSecond;
  return (source$) =>
    new Observable<T | typeof LINES_DROPPED>((subscriber) => {
      // Below zero, tokens count the lines waiting: each waits one more interval than the last,
      // so release times only grow and the delayed values keep their order.
      let tokens = limits.burstLines;
      let countedAt = scheduler.now();
      let warned = false;
      let waiting = 0;
      let sourceDone = false;
      const releases = new Subscription();
      const completeWhenDrained = () => {
        if (sourceDone && waiting === 0) subscriber.complete();
      };
      const admit = (value: T) => {
        const now = scheduler.now();
        tokens = Math.min(limits.burstLines, tokens + (now - countedAt) / msPerLine);
        countedAt = now;
        if (tokens >= 0) warned = false; // the queue has drained: a new flood earns a new notice
        if (tokens >= 1) {
          tokens -= 1;
          subscriber.next(value);
        } else if (Math.ceil(-tokens) >= limits.maxQueuedLines) {
          if (!warned) subscriber.next(LINES_DROPPED);
          warned = true;
        } else {
          const delayMs = Math.ceil((1 - tokens) * msPerLine);
          tokens -= 1;
          waiting += 1;
          const release = scheduler.schedule(() => {
            waiting -= 1;
            releases.remove(release);
            subscriber.next(value);
            completeWhenDrained();
          }, delayMs);
          releases.add(release);
        }
      };
      const upstream = source$.subscribe({
        next: admit,
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          sourceDone = true;
          completeWhenDrained();
        },
      });
      return () => {
        upstream.unsubscribe();
        releases.unsubscribe();
      };
    });
}
