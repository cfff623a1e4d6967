import { asyncScheduler, type SchedulerLike, type Subscription } from 'rxjs';

/** Flood control for one user: a token bucket, and a bound on the lines it holds back. */
export interface RateLimits {
  /** Lines per second a user may send once their burst is spent. */
  readonly linesPerSecond: number;
  /** Lines a user may send at once after being quiet. */
  readonly burstLines: number;
  /** Held-back lines past which further lines are dropped. */
  readonly maxQueuedLines: number;
  /** Bytes written to a user alone that cost them one more line (REPLY_BYTES_PER_LINE when not given). */
  readonly replyBytesPerLine?: number;
}

export const DEFAULT_RATE_LIMITS: RateLimits = { linesPerSecond: 5, burstLines: 10, maxQueuedLines: 100 };

/**
 * Default: what a user's line makes the server write to them alone (a command's reply, the
 * history of a room they join) counts as one more line of their pace for each whole this many
 * bytes: a user who keeps asking for big replies is slowed as a flooder is, and nobody else is.
 */
export const REPLY_BYTES_PER_LINE = 4096;

/** The lines of pace that `bytes` written to a user cost, beyond the line that asked for them; none when `bytesPerLine` is not above 0. */
export const replyCost = (bytes: number, bytesPerLine = REPLY_BYTES_PER_LINE): number =>
  bytesPerLine > 0 ? Math.floor(bytes / bytesPerLine) : 0; // a library's 0 would make every answer cost forever

/** Stands in the output, once per burst, where lines start being dropped. */
export const LINES_DROPPED = Symbol('lines dropped');

/** Tokens a release may lack, from rounding its wait to whole milliseconds and back. */
const ROUNDING_TOKENS = 1e-9;

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
 * once, until the queue has drained. `charge` takes tokens for what a value cost beyond itself:
 * the values that wait are released only once the tokens are there again.
 *
 * A class rather than an operator: one lives for every logged-in user, idle or not, and an
 * operator chain per user cost more than the whole connection (bench/README.md has the figures).
 */
export class Pace<T> {
  // Below zero, tokens are a debt that the refill pays before the next value goes.
  private tokens: number;
  private countedAt: number;
  private warned = false;
  private ended = false;
  private stopped = false;
  private queue: T[] | undefined; // made for the first delayed value: most users never flood
  private release: Subscription | undefined; // the head of the queue's turn, while one is due

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
    if (this.stopped) return;
    this.refill();
    const queue = this.queue;
    if (queue === undefined || queue.length === 0) {
      this.warned = false; // the queue has drained: a new flood earns a new notice
      if (this.tokens >= 1) {
        this.tokens -= 1;
        this.sink.paced(value);
        return;
      }
    }
    if (queue !== undefined && queue.length >= this.limits.maxQueuedLines) {
      this.sink.dropped?.();
      if (!this.warned) this.sink.paced(LINES_DROPPED);
      this.warned = true;
      return;
    }
    (this.queue ??= []).push(value);
    this.release ??= this.nextTurn();
  }

  /** Takes `lines` more tokens, for what the last value cost beyond itself; the next values wait for them. */
  charge(lines: number): void {
    this.refill();
    this.tokens -= lines;
  }

  /** No more values: `drained` follows once the delayed ones are out, at once if none wait. */
  end(): void {
    this.ended = true;
    if (this.release === undefined && !this.stopped) this.sink.drained();
  }

  /** Cancels the delayed values; nothing more is sent. */
  stop(): void {
    this.stopped = true;
    this.release?.unsubscribe();
    this.release = undefined;
    this.queue = undefined;
  }

  private refill(): void {
    const now = this.scheduler.now();
    this.tokens = Math.min(this.limits.burstLines, this.tokens + ((now - this.countedAt) * this.limits.linesPerSecond) / 1000);
    this.countedAt = now;
  }

  /** Schedules the queue's head for when a token is there again. */
  private nextTurn(): Subscription {
    const waitMs = Math.ceil(((1 - this.tokens) * 1000) / this.limits.linesPerSecond);
    return this.scheduler.schedule(() => this.releaseHead(), Math.max(0, waitMs));
  }

  /** The head goes if its token is there; a charge since it was scheduled makes it wait longer. */
  private releaseHead(): void {
    this.release = undefined;
    this.refill();
    if (this.tokens < 1 - ROUNDING_TOKENS) {
      this.release = this.nextTurn();
      return;
    }
    const queue = this.queue ?? [];
    const head = queue.shift();
    if (head === undefined) return;
    this.tokens -= 1;
    this.sink.paced(head); // may charge, or stop this pace
    if (this.stopped) return;
    if (queue.length > 0) this.release = this.nextTurn();
    else {
      this.queue = undefined; // a flood once over holds nothing
      if (this.ended) this.sink.drained();
    }
  }
}
