/** A Redis Stream entry id, `<ms>-<seq>`, as Redis writes it. */
export const STREAM_ID = /^\d+-\d+$/;

/** The id before every entry: reading after it reads the stream from its start. */
export const STREAM_START = '0-0';

/** True when stream entry id `a` comes before `b`. */
export function isBefore(a: string, b: string): boolean {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs < bMs || (aMs === bMs && aSeq < bSeq);
}

/** The later of two stream entry ids. */
export const later = (a: string, b: string): string => (isBefore(a, b) ? b : a);
