import { OVERLONG_LINE, type Received } from '../chat/input';
import type { InputTally } from '../chat/input-tally';

/**
 * What a node's sessions count of their input, for its metrics: plain numbers, bumped on the
 * hot path for nothing but an addition, read when the metrics are scraped.
 */
export class InputCounter implements InputTally {
  /** Lines read within the line limit, username attempts and commands included. */
  received = 0;
  /** Lines over the line limit, dropped unread. */
  overlong = 0;
  /** Lines received but dropped by flood control. */
  flooded = 0;

  /** Counts one input of a session. */
  count(input: Received): void {
    if (input === OVERLONG_LINE) this.overlong += 1;
    else this.received += 1;
  }
}
