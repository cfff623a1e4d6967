/**
 * Child process: one server under test on 127.0.0.1, port 0. Alone in its process so that
 * /proc/PID measures it and nothing else. Started with --expose-gc, so that memory is measured
 * after a full collection, not with whatever garbage happens to be around.
 */
import { once } from 'node:events';
import { type Server, Socket } from 'node:net';
import { DEFAULT_RATE_LIMITS } from '../lib/chat/pace';
import { createChatServer } from '../lib/server';
import { createBaselineServer } from './baseline';
import { isMessage, sendToParent } from './wire';

/** chatd's flood control would throttle and drop the benchmark's lines; the limits are lifted. */
export const BENCH_RATE_LIMITS = { linesPerSecond: 1e9, burstLines: 1e9, maxQueuedLines: 1e9 };
/** Above the connection test's users, so chatd never answers "server full". */
export const BENCH_MAX_CLIENTS = 20_000;

/**
 * How chatd is started: `metrics` turns the endpoint on, `redis=PATH` makes it a node of the
 * cluster on that Redis, `paced` keeps chatd's own flood limits (an attack scenario measures them).
 */
interface ChatdFlags {
  readonly metrics: boolean;
  readonly redis: string | undefined;
  readonly paced: boolean;
}

async function startChatd({ metrics, redis, paced }: ChatdFlags): Promise<number> {
  const metricsListen = metrics ? { host: '127.0.0.1', port: 0 } : undefined;
  const rateLimits = paced ? DEFAULT_RATE_LIMITS : BENCH_RATE_LIMITS;
  const server = createChatServer({
    host: '127.0.0.1', port: 0, rateLimits, maxClients: BENCH_MAX_CLIENTS, metricsListen, redis, redisPrefix: 'bench:',
  });
  const { port } = await server.listen();
  return port;
}

async function startBaseline(): Promise<number> {
  const server: Server = createBaselineServer();
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }); // the same backlog chatd gets by default
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('TCP only');
  return address.port;
}

/**
 * Watches every socket write in this process, for the most bytes queued for one socket: a queue
 * is largest just after a write, and chatd cuts a slow reader off at its next one, so sampling on
 * a timer would miss the peak. Both servers are watched alike, and only while asked to.
 */
function watchSendQueues(): () => number {
  const write = Socket.prototype.write;
  let peak = 0;
  Socket.prototype.write = function watchedWrite(this: Socket, ...args: unknown[]): boolean {
    const accepted: unknown = Reflect.apply(write, this, args);
    peak = Math.max(peak, this.writableLength);
    return accepted === true;
  };
  return () => {
    Socket.prototype.write = write;
    return peak;
  };
}

/** Answers the orchestrator: memory after a full collection, and the peak of the send queues. */
function serveRequests(): void {
  let stopWatching = () => 0;
  process.on('message', (message: unknown) => {
    if (isMessage(message, 'gc')) {
      globalThis.gc?.();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      sendToParent<'gc-done'>({ type: 'gc-done', memory: { rss, heapUsed, external, arrayBuffers } });
    } else if (isMessage(message, 'watch-queues')) {
      stopWatching(); // a second ask must not wrap the wrapper
      stopWatching = watchSendQueues();
      sendToParent<'watching-queues'>({ type: 'watching-queues' });
    } else if (isMessage(message, 'queue-peak')) {
      sendToParent<'queue-peaked'>({ type: 'queue-peaked', bytes: stopWatching() });
    }
  });
}

async function main(kind: string | undefined, flags: readonly string[]): Promise<void> {
  if (kind !== 'chatd' && kind !== 'baseline') throw new Error(`usage: serve chatd|baseline [metrics] [redis=PATH] [paced], not ${kind}`);
  const redis = flags.find((flag) => flag.startsWith('redis='))?.slice('redis='.length);
  const chatdFlags = { metrics: flags.includes('metrics'), redis, paced: flags.includes('paced') };
  const port = kind === 'chatd' ? await startChatd(chatdFlags) : await startBaseline();
  serveRequests();
  process.on('disconnect', () => process.exit(0)); // the orchestrator is gone: do not outlive it
  sendToParent<'listening'>({ type: 'listening', port });
}

main(process.argv[2], process.argv.slice(3)).catch((err: unknown) => {
  process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
