import Redis from 'ioredis';
import { redisProblem } from '../../lib/bus/redis-problem';

describe('redisProblem', () => {
  it("says in chatd's words what ioredis says of a command it cannot send", async () => {
    const redis = new Redis({ port: 1, lazyConnect: true, enableOfflineQueue: false });
    redis.on('error', () => {});
    const failed = await redis.get('key').then(() => undefined, (err: unknown) => err);
    redis.disconnect();
    expect(redisProblem(failed)).toBe('not connected to Redis');
  });

  it("quotes Redis's refusals as its own, and names a connection error by its code", () => {
    const refusal = Object.assign(new Error('OOM command not allowed when used memory > maxmemory'), { name: 'ReplyError' });
    expect(redisProblem(refusal)).toBe('Redis refused it: OOM command not allowed when used memory > maxmemory');
    expect(redisProblem(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }))).toBe('cannot connect to Redis (ECONNREFUSED)');
    expect(redisProblem(new Error('Connection is closed.'))).toBe('the connection to Redis closed');
  });
});
