import type Redis from 'ioredis';
import { catchError, from, map, type Observable, of } from 'rxjs';
import { GUESSES } from './redis-scripts';
import { StoreError } from './store-error';
import { Buckets, type GuessLimits, type NameBuckets, type Reservation } from './throttle';

/** `[wait, level]` as the GUESSES script answers it, the wait from `now` on this node's clock; a wait of -1 is no reservation. */
function reservationOf(reply: unknown, now: number): Reservation | undefined {
  if (!Array.isArray(reply)) throw new StoreError('CHAT_STORE_CORRUPT', 'Redis answered a guess count with no list');
  const [wait, level] = reply;
  if (typeof wait !== 'number' || typeof level !== 'string') throw new StoreError('CHAT_STORE_CORRUPT', 'Redis answered a guess count with no wait and level');
  return wait < 0 ? undefined : { slot: now + wait, level: Number(level) };
}

/**
 * Names' buckets in Redis, shared by every node: guessing one name on several nodes is as slow as
 * on one. While Redis cannot answer, this node counts in its own memory: slowed alike, never
 * refusing every check for want of Redis.
 */
export function redisNameBuckets(redis: Redis, keyOf: (nameKey: string) => string, limits: GuessLimits): NameBuckets {
  const local = new Buckets(limits);
  const figures = [limits.leakMs, limits.freeWrongChecks, limits.firstSpacingMs, limits.maxWaitMs];
  const run = (mode: 'reserve' | 'refund', key: string): Promise<unknown> => redis.eval(GUESSES, 1, keyOf(key), mode, ...figures);
  return {
    reserve: (key, now): Observable<Reservation | undefined> =>
      from(run('reserve', key)).pipe(
        map((reply) => reservationOf(reply, now)),
        catchError(() => of(local.reserve(key, now))),
      ),
    refund: (key, now) => {
      local.refund(key, now);
      run('refund', key).catch(() => {});
    },
    reset: (key) => {
      local.reset(key);
      redis.del(keyOf(key)).catch(() => {});
    },
  };
}
