/**
 * Child process: one server under test on 127.0.0.1, port 0. Alone in its process so that
 * /proc/PID measures it and nothing else. Started with --expose-gc, so that memory is measured
 * after a full collection, not with whatever garbage happens to be around.
 */
import { once } from 'node:events';
import type { Server, Socket } from 'node:net';
import { createChatServer } from '../lib/server';
import { createBaselineServer } from './baseline';
import { isMessage, sendToParent } from './wire';

/** chatd's flood control would throttle and drop the benchmark's lines; the limits are lifted. */
export const BENCH_RATE_LIMITS = { linesPerSecond: 1e9, burstLines: 1e9, maxQueuedLines: 1e9 };
/** Above the connection test's users, so chatd never answers "server full". */
export const BENCH_MAX_CLIENTS = 20_000;

/** A server under test, as this process watches it. */
interface Started {
  readonly port: number;
  /** The most bytes waiting in the server for any one socket now. */
  readonly largestSendQueue: () => number;
}

const QUEUE_SAMPLE_MS = 5;

async function startChatd(): Promise<Started> {
  const server = createChatServer({ host: '127.0.0.1', port: 0, rateLimits: BENCH_RATE_LIMITS, maxClients: BENCH_MAX_CLIENTS });
  const { port } = await server.listen();
  return { port, largestSendQueue: () => server.largestSendQueue() };
}

async function startBaseline(): Promise<Started> {
  const server: Server = createBaselineServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }); // the same backlog chatd gets by default
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('TCP only');
  return { port: address.port, largestSendQueue: () => Math.max(0, ...[...sockets].map((socket) => socket.writableLength)) };
}

/** Answers the orchestrator: memory after a full collection, and the peak of the send queues. */
function serveRequests({ largestSendQueue }: Started): void {
  let peak = 0;
  let sampler: NodeJS.Timeout | undefined;
  process.on('message', (message: unknown) => {
    if (isMessage(message, 'gc')) {
      globalThis.gc?.();
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      sendToParent<'gc-done'>({ type: 'gc-done', memory: { rss, heapUsed, external, arrayBuffers } });
    } else if (isMessage(message, 'watch-queues')) {
      peak = 0;
      sampler = setInterval(() => (peak = Math.max(peak, largestSendQueue())), QUEUE_SAMPLE_MS);
      sendToParent<'watching-queues'>({ type: 'watching-queues' });
    } else if (isMessage(message, 'queue-peak')) {
      clearInterval(sampler);
      sendToParent<'queue-peaked'>({ type: 'queue-peaked', bytes: Math.max(peak, largestSendQueue()) });
    }
  });
}

async function main(kind: string | undefined): Promise<void> {
  if (kind !== 'chatd' && kind !== 'baseline') throw new Error(`usage: serve chatd|baseline, not ${kind}`);
  const started = kind === 'chatd' ? await startChatd() : await startBaseline();
  serveRequests(started);
  process.on('disconnect', () => process.exit(0)); // the orchestrator is gone: do not outlive it
  sendToParent<'listening'>({ type: 'listening', port: started.port });
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
