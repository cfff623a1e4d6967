/**
 * The browser door against TCP, in one chatd and one run: `npm run bench:web [-- --users N --runs N]`.
 * The orchestrator (this process, also the load) starts chatd in a child (`web.js serve`, young
 * generation capped, --expose-gc) with a TCP and a web port. For each kind of receiver, TCP then
 * web (the order alternates between runs), it logs in N receivers, measures the server's RSS
 * growth per idle user after a full collection, then has 10 TCP senders broadcast fixed-size lines
 * in a closed loop (each keeps WINDOW_LINES of its own lines unread by itself at most) and counts
 * the bytes the receivers read over the window: deliveries = bytes / the bytes of one line (its
 * frame header included on the web). Web receivers read raw frames on a plain socket after a
 * hand-made upgrade, so both kinds cost the load the same: it never parses what it counts.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { DEFAULT_WEB_SETTINGS } from '../lib/edge/web/door';
import { createChatServer } from '../lib/server';

const SENDERS = 10;
const WINDOW_LINES = 20;
const PAYLOAD = 'x'.repeat(40);
const LINE_BYTES = Buffer.byteLength(`[s0] ${PAYLOAD}\n`);
const FRAME_HEADER_BYTES = 2; // a text frame of under 126 bytes
const WARMUP_MS = 1_000;
const WINDOW_MS = 5_000;
const LOGINS_AT_ONCE = 50;

type Kind = 'tcp' | 'web';

interface Ports {
  readonly tcp: number;
  readonly web: number;
}

/** A connection logged in as `nick`, counting what it reads once asked to. */
interface User {
  readonly socket: Socket;
  bytes: number;
}

/** Child: chatd with flood limits lifted and a send queue no closed loop can fill; answers 'gc' with its memory. */
async function serve(): Promise<void> {
  const server = createChatServer({
    host: '127.0.0.1', port: 0, web: { ...DEFAULT_WEB_SETTINGS, port: 0 }, maxClients: 20_000, maxSendQueueBytes: 64 * 1024 * 1024,
    rateLimits: { linesPerSecond: 1e9, burstLines: 1e9, maxQueuedLines: 1e9 },
  });
  const { port } = await server.listen();
  process.on('message', (message: unknown) => {
    if (message === 'gc') {
      globalThis.gc?.();
      const { rss, heapUsed, external } = process.memoryUsage();
      process.send?.({ rss, heap: heapUsed + external, users: server.users().length });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send?.({ tcp: port, web: server.webAddress()?.port ?? 0 });
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

async function ask(child: ChildProcess): Promise<{ rss: number; heap: number; users: number }> {
  child.send('gc');
  const [answer]: unknown[] = await once(child, 'message');
  if (!isRecord(answer) || typeof answer['rss'] !== 'number' || typeof answer['heap'] !== 'number' || typeof answer['users'] !== 'number') throw new Error('bad answer');
  return { rss: answer['rss'], heap: answer['heap'], users: answer['users'] };
}

/** Waits until the server counts `users` logged in (each close and login is seen there a little later). */
async function settle(child: ChildProcess, users: number): Promise<{ rss: number; heap: number }> {
  for (;;) {
    const { rss, heap, users: now } = await ask(child);
    if (now === users) return { rss, heap };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Connects a user of `kind` and logs in as `nick`; resolves once it has read its own join. */
async function logIn(kind: Kind, ports: Ports, nick: string): Promise<User> {
  const socket = connect(kind === 'tcp' ? ports.tcp : ports.web, '127.0.0.1');
  socket.on('error', () => {});
  await once(socket, 'connect');
  const user: User = { socket, bytes: 0 };
  const joined = `*** ${nick} just joined the chatroom`;
  let seen = '';
  await new Promise<void>((resolve) => {
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString('latin1')).slice(-4096);
      if (kind === 'web' && seen.includes('\r\n\r\n') && !seen.includes('upgraded')) {
        seen = 'upgraded';
        socket.write(maskedText(nick));
      }
      if (!seen.includes(joined)) return;
      socket.off('data', onData).on('data', (more: Buffer) => (user.bytes += more.length));
      resolve();
    };
    socket.on('data', onData);
    if (kind === 'tcp') socket.write(`${nick}\n`);
    else socket.write(upgradeRequest(ports.web));
  });
  return user;
}

const upgradeRequest = (port: number): string =>
  `GET /chat HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
  `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`;

/** A client's text frame: masked, as RFC 6455 requires of clients, with a zero mask (payload unchanged). */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text);
  if (payload.length > 125) throw new Error('short messages only');
  return Buffer.concat([Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0]), payload]);
}

async function logInAll(kind: Kind, ports: Ports, prefix: string, count: number): Promise<User[]> {
  const users: User[] = [];
  for (let first = 0; first < count; first += LOGINS_AT_ONCE) {
    const batch = Array.from({ length: Math.min(LOGINS_AT_ONCE, count - first) }, (_, at) => logIn(kind, ports, `${prefix}${first + at}`));
    users.push(...(await Promise.all(batch)));
  }
  return users;
}

/** Each sender keeps WINDOW_LINES of its lines in flight: it sends one more for each it reads back. */
function flood(senders: readonly User[]): () => void {
  let stopped = false;
  const line = `${PAYLOAD}\n`;
  for (const sender of senders) {
    let unreadBytes = 0;
    sender.socket.removeAllListeners('data');
    sender.socket.on('data', (chunk: Buffer) => {
      unreadBytes += chunk.length;
      const back = Math.floor(unreadBytes / LINE_BYTES);
      unreadBytes -= back * LINE_BYTES;
      if (!stopped && back > 0) sender.socket.write(line.repeat(back));
    });
    sender.socket.write(line.repeat(WINDOW_LINES));
  }
  return () => (stopped = true);
}

/** Starts chatd in a child of its own. */
async function startChatd(): Promise<{ child: ChildProcess; ports: Ports }> {
  const child = fork(__filename, ['serve'], { execArgv: ['--expose-gc', '--max-semi-space-size=1'] });
  const [ready]: unknown[] = await once(child, 'message');
  if (!isRecord(ready) || typeof ready['tcp'] !== 'number' || typeof ready['web'] !== 'number') throw new Error('chatd did not start');
  return { child, ports: { tcp: ready['tcp'], web: ready['web'] } };
}

/** RSS per idle logged-in user of `kind`, in a chatd of its own: what a load before would leave
 * in the heap (and a collection give back) does not blur it. */
async function memory(kind: Kind, count: number): Promise<{ rss: number; heap: number }> {
  const { child, ports } = await startChatd();
  const before = await settle(child, 0);
  const users = await logInAll(kind, ports, 'r', count);
  const idle = await settle(child, count);
  for (const user of users) user.socket.destroy();
  child.disconnect();
  return { rss: (idle.rss - before.rss) / count / 1024, heap: (idle.heap - before.heap) / count / 1024 };
}

async function measure(child: ChildProcess, ports: Ports, kind: Kind, count: number): Promise<{ kind: Kind; rssPerUserKiB: number; heapPerUserKiB: number; deliveredPerSecond: number }> {
  await settle(child, 0);
  const receivers = await logInAll(kind, ports, 'r', count);
  await settle(child, count);
  const { rss: rssPerUserKiB, heap: heapPerUserKiB } = await memory(kind, count);
  const senders = await logInAll('tcp', ports, 's', SENDERS);
  const stop = flood(senders);
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  for (const receiver of receivers) receiver.bytes = 0;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
  const bytes = receivers.reduce((sum, receiver) => sum + receiver.bytes, 0);
  const seconds = (performance.now() - started) / 1000;
  stop();
  for (const user of [...receivers, ...senders]) user.socket.destroy();
  const perLine = kind === 'tcp' ? LINE_BYTES : LINE_BYTES + FRAME_HEADER_BYTES;
  return { kind, rssPerUserKiB, heapPerUserKiB, deliveredPerSecond: bytes / perLine / seconds };
}

async function orchestrate(users: number, runs: number): Promise<void> {
  const { child, ports } = await startChatd();
  const rows: string[] = [];
  for (let run = 0; run < runs; run++) {
    const kinds: Kind[] = run % 2 === 0 ? ['tcp', 'web'] : ['web', 'tcp'];
    const results = [];
    for (const kind of kinds) results.push(await measure(child, ports, kind, users));
    const tcp = results.find((result) => result.kind === 'tcp');
    const web = results.find((result) => result.kind === 'web');
    if (tcp === undefined || web === undefined) throw new Error('a kind was not measured');
    const row = `| ${run + 1} | ${Math.round(tcp.deliveredPerSecond).toLocaleString('en')} | ${Math.round(web.deliveredPerSecond).toLocaleString('en')} | ` +
      `${(web.deliveredPerSecond / tcp.deliveredPerSecond).toFixed(2)} | ${tcp.rssPerUserKiB.toFixed(1)} | ${web.rssPerUserKiB.toFixed(1)} | ${(web.rssPerUserKiB / tcp.rssPerUserKiB).toFixed(2)} | ${tcp.heapPerUserKiB.toFixed(1)} | ${web.heapPerUserKiB.toFixed(1)} |`;
    rows.push(row);
    process.stdout.write(`${row}\n`);
  }
  child.disconnect();
  process.stdout.write(`\n${users} receivers, ${SENDERS} TCP senders; deliveries/s TCP | web | web/TCP; RSS per idle user KiB TCP | web | web/TCP; JS heap and external per idle user KiB TCP | web\n${rows.join('\n')}\n`);
}

if (process.argv[2] === 'serve') {
  serve().catch((err: unknown) => {
    process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
} else {
  const { values } = parseArgs({ args: process.argv.slice(2), options: { users: { type: 'string', default: '1000' }, runs: { type: 'string', default: '3' } } });
  orchestrate(Number(values.users), Number(values.runs)).catch((err: unknown) => {
    process.stderr.write(`bench web: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
