import { asyncScheduler, defer, map, mergeMap, type ObservableInput, type OperatorFunction, type SchedulerLike, timer } from 'rxjs';

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
 */
export function pace<T>(
  limits: RateLimits,
  scheduler: SchedulerLike = asyncScheduler,
): OperatorFunction<T, T | typeof LINES_DROPPED> {
  const msPerLine = 1000 / limits.linesPerSecond;
  return (source$) =>
    defer(() => {
      // Below zero, tokens count the lines waiting: each waits one more interval than the last,
      // so release times only grow and the delayed values keep their order.
      let tokens = limits.burstLines;
      let countedAt = scheduler.now();
      let warned = false;
      const admit = (value: T): ObservableInput<T | typeof LINES_DROPPED> => {
        const now = scheduler.now();
        tokens = Math.min(limits.burstLines, tokens + (now - countedAt) / msPerLine);
        countedAt = now;
        if (tokens >= 0) warned = false; // the queue has drained: a new flood earns a new notice
        if (tokens >= 1) {
          tokens -= 1;
          return [value];
        }
        if (Math.ceil(-tokens) >= limits.maxQueuedLines) {
          const notice: (T | typeof LINES_DROPPED)[] = warned ? [] : [LINES_DROPPED];
          warned = true;
          return notice;
        }
        const delayMs = Math.ceil((1 - tokens) * msPerLine);
        tokens -= 1;
        return timer(delayMs, scheduler).pipe(map(() => value));
      };
      return source$.pipe(mergeMap(admit));
    });
}
