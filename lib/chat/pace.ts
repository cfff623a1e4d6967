import { asyncScheduler, type SchedulerLike, Subscription } from 'rxjs';

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

/** Where a Pace sends what it lets through. */
export interface PaceSink<T> {
  /** A value whose turn has come, or LINES_DROPPED where dropping starts. */
  paced(value: T | typeof LINES_DROPPED): void;
  /** After end(): the last delayed value is out. */
  drained(): void;
  /** A value was dropped: the queue was full. Called for each one, for the metrics. */
  dropped?(): void;
}

/**
 * Paces one user's values to `limits`: values over the rate are delayed, in order, not lost,
 * while at most `maxQueuedLines` wait; past that they are dropped and LINES_DROPPED is sent
 * once, until the queue has drained.
 *
 * A class rather than an operator: one lives for every logged-in user, idle or not, and an
 * operator chain per user cost more than the whole connection (bench/README.md has the figures).
 */
export class Pace<T> {
  // Below zero, tokens count the values waiting: each waits one more interval than the last,
  // so release times only grow and the delayed values keep their order.
  private tokens: number;
  private countedAt: number;
  private warned = false;
  private waiting = 0;
  private ended = false;
  private releases: Subscription | undefined; // made for the first delayed value: most users never flood

  constructor(
    private readonly limits: RateLimits,
    private readonly sink: PaceSink<T>,
    private readonly scheduler: SchedulerLike = asyncScheduler,
  ) {
    this.tokens = limits.burstLines;
    this.countedAt = scheduler.now();
  }

  /** Sends `value` on now, later, or never (the queue is full). */
  push(value: T): void {
    const { burstLines, linesPerSecond, maxQueuedLines } = this.limits;
    const msPerLine = 1000 / linesPerSecond;
    const now = this.scheduler.now();
    this.tokens = Math.min(burstLines, this.tokens + (now - this.countedAt) / msPerLine);
    this.countedAt = now;
    if (this.tokens >= 0) this.warned = false; // the queue has drained: a new flood earns a new notice
    if (this.tokens >= 1) {
      this.tokens -= 1;
      this.sink.paced(value);
    } else if (Math.ceil(-this.tokens) >= maxQueuedLines) {
      this.sink.dropped?.();
      if (!this.warned) this.sink.paced(LINES_DROPPED);
      this.warned = true;
    } else {
      this.delay(value, Math.ceil((1 - this.tokens) * msPerLine));
      this.tokens -= 1;
    }
  }

  /** No more values: `drained` follows once the delayed ones are out, at once if none wait. */
  end(): void {
    this.ended = true;
    if (this.waiting === 0) this.sink.drained();
  }

  /** Cancels the delayed values; nothing more is sent. */
  stop(): void {
    this.releases?.unsubscribe();
  }

  private delay(value: T, delayMs: number): void {
    const releases = (this.releases ??= new Subscription());
    this.waiting += 1;
    const release = this.scheduler.schedule(() => {
      this.waiting -= 1;
      releases.remove(release);
      this.sink.paced(value);
      if (this.ended && this.waiting === 0) this.sink.drained();
    }, delayMs);
    releases.add(release);
  }
}
