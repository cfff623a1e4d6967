/**
 * Child process: one server under test on 127.0.0.1, port 0. Alone in its process so that
 * /proc/PID measures it and nothing else. Started with --expose-gc, so that memory is measured
 * after a full collection, not with whatever garbage happens to be around.
 */
import { once } from 'node:events';
import type { Server } from 'node:net';
import { createChatServer } from '../lib/server';
import { createBaselineServer } from './baseline';
import { isMessage, sendToParent } from './wire';

/** chatd's flood control would throttle and drop the benchmark's lines; the limits are lifted. */
export const BENCH_RATE_LIMITS = { linesPerSecond: 1e9, burstLines: 1e9, maxQueuedLines: 1e9 };
/** Above the connection test's users, so chatd never answers "server full". */
export const BENCH_MAX_CLIENTS = 20_000;

async function startChatd(): Promise<number> {
  const server = createChatServer({ host: '127.0.0.1', port: 0, rateLimits: BENCH_RATE_LIMITS, maxClients: BENCH_MAX_CLIENTS });
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

async function main(kind: string | undefined): Promise<void> {
  if (kind !== 'chatd' && kind !== 'baseline') throw new Error(`usage: serve chatd|baseline, not ${kind}`);
  const port = kind === 'chatd' ? await startChatd() : await startBaseline();
  process.on('message', (message: unknown) => {
    if (!isMessage(message, 'gc')) return;
    globalThis.gc?.();
    const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
    sendToParent<'gc-done'>({ type: 'gc-done', memory: { rss, heapUsed, external, arrayBuffers } });
  });
  process.on('disconnect', () => process.exit(0)); // the orchestrator is gone: do not outlive it
  sendToParent<'listening'>({ type: 'listening', port });
}

main(process.argv[2]).catch((err: unknown) => {
  process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
