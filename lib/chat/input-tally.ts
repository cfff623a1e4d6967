import type { Received } from './input';

/** Where a session counts its input for the node's metrics; the edge keeps and reads the counts. */
export interface InputTally {
  /** Counts one input, a line or a line dropped as overlong or over budget. */
  count(input: Received): void;
  /** Lines received but dropped by flood control. */
  flooded: number;
}
