/**
 * What went wrong with Redis, in chatd's words: ioredis's own messages name its options and
 * internals ("Stream isn't writeable and enableOfflineQueue options is false"), which tell an
 * operator nothing. Redis's replies (OOM, READONLY...) are Redis's words, quoted as such.
 */
const IOREDIS_WORDS: ReadonlyMap<string, string> = new Map([
  ["Stream isn't writeable and enableOfflineQueue options is false", 'not connected to Redis'],
  ['Connection is closed.', 'the connection to Redis closed'],
  ['Command timed out', 'Redis did not answer in time'],
]);

/** One line for a failed Redis command or connection. */
export function redisProblem(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const known = IOREDIS_WORDS.get(err.message);
  if (known !== undefined) return known;
  if (err.name === 'ReplyError') return `Redis refused it: ${err.message}`;
  if (err.name === 'MaxRetriesPerRequestError') return 'Redis is out of reach';
  const code = 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  return code !== undefined && /^E[A-Z]+$/.test(code) ? `cannot connect to Redis (${code})` : err.message;
}
