/** Default for the longest line a client may send, in bytes, its line ending excluded. */
export const MAX_LINE_BYTES = 4096;

/** Stands in the input for a line over the limit, which was dropped. */
export const OVERLONG_LINE = Symbol('overlong line');

/** Stands in the input once, when the connection has sent more than its byte budget in all. */
export const BUDGET_SPENT = Symbol('byte budget spent');

/** Stands in the input once, after its last line, when the peer has ended its side of the
 * connection (a half-close): it sends no more, but may still read. */
export const INPUT_ENDED = Symbol('input ended');

/** What a connection says: what it sent, or that it has ended its side. */
export type Input = Received | typeof INPUT_ENDED;

/** What a connection sends: a line of text (no line ending), that a line was dropped, or that it
 * has sent more than its budget. */
export type Received = string | typeof OVERLONG_LINE | typeof BUDGET_SPENT;
