/**
 * The SSH door's cost against a plain TCP user's, on one chatd: RSS per idle logged-in user
 * (the bench's method: a server alone in its process, --expose-gc and --max-semi-space-size=1,
 * RSS after a full collection, before and after the logins), and lines delivered per second to a
 * room of users of one door. Run: `npm run bench:ssh` (or with `-- USERS LINES`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { Client, type ClientChannel, utils } from 'ssh2';
import { createChatServer } from '../lib/server';

// As bench/serve.ts's (which runs its own process when imported): chatd's flood limits lifted.
const BENCH_RATE_LIMITS = { linesPerSecond: 1e9, burstLines: 1e9, maxQueuedLines: 1e9 };
const BENCH_MAX_CLIENTS = 20_000;

interface Ports {
  readonly tcp: number;
  readonly ssh: number;
}

/** A user of either door: what it writes, and a promise for `count` more lines read. */
interface User {
  write(text: string): void;
  lines(count: number): Promise<void>;
  close(): void;
}

function counting(write: (text: string) => void, close: () => void): { user: User; onData: (chunk: Buffer) => void } {
  let seen = 0;
  let waiting: { target: number; resolve: () => void } | undefined;
  const onData = (chunk: Buffer) => {
    for (const byte of chunk) if (byte === 0x0a) seen += 1;
    if (waiting !== undefined && seen >= waiting.target) {
      waiting.resolve();
      waiting = undefined;
    }
  };
  const lines = (count: number) => new Promise<void>((resolve) => {
    const target = seen + count;
    if (seen >= target) resolve();
    else waiting = { target, resolve };
  });
  return { user: { write, lines, close }, onData };
}

async function tcpUser(port: number, name: string): Promise<User> {
  const socket: Socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const { user, onData } = counting((text) => socket.write(text), () => socket.destroy());
  socket.on('data', onData);
  socket.write(`${name}\n`);
  await user.lines(3); // the banner, the welcome, the join
  return user;
}

async function sshUser(port: number, name: string): Promise<User> {
  const client = new Client();
  client.on('keyboard-interactive', (_n, _i, _l, _p, finish) => finish([]));
  client.on('error', () => {}); // the server's end at the run's end
  const ready = once(client, 'ready');
  client.connect({ host: '127.0.0.1', port, username: name, tryKeyboard: true });
  await ready;
  const channel = await new Promise<ClientChannel>((resolve, reject) => client.shell(false, (err, opened) => (err === undefined ? resolve(opened) : reject(err))));
  const { user, onData } = counting((text) => channel.write(text), () => client.end());
  channel.on('data', onData);
  await user.lines(3);
  return user;
}

/** The server process: chatd with an SSH door, its RSS after a full collection on request. */
async function serve(): Promise<void> {
  const server = createChatServer({
    host: '127.0.0.1', port: 0, rateLimits: BENCH_RATE_LIMITS, maxClients: BENCH_MAX_CLIENTS, loginTimeoutMs: 600_000,
    maxConnectionsPerAddress: BENCH_MAX_CLIENTS, ssh: { port: 0, hostKey: utils.generateKeyPairSync('ed25519').private },
  });
  const { port } = await server.listen();
  process.send?.({ tcp: port, ssh: server.sshAddress()?.port });
  process.on('message', () => {
    global.gc?.();
    global.gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    process.send?.({ rss, heapUsed });
  });
}

const isPorts = (value: unknown): value is Ports =>
  typeof value === 'object' && value !== null && 'tcp' in value && typeof value.tcp === 'number' && 'ssh' in value && typeof value.ssh === 'number';
const isMemory = (value: unknown): value is { rss: number; heapUsed: number } =>
  typeof value === 'object' && value !== null && 'rss' in value && typeof value.rss === 'number' && 'heapUsed' in value && typeof value.heapUsed === 'number';

/** The child's next message, which must be what `is` checks. */
async function message<T>(child: ChildProcess, is: (value: unknown) => value is T): Promise<T> {
  const [value]: unknown[] = await once(child, 'message');
  if (!is(value)) throw new Error(`unexpected message from the server: ${JSON.stringify(value)}`);
  return value;
}

async function main(users: number, lines: number): Promise<void> {
  for (const door of ['tcp', 'ssh'] as const) {
    const child = fork(__filename, ['serve'], { execArgv: ['--expose-gc', '--max-semi-space-size=1'] });
    const ports = await message(child, isPorts);
    const memory = async () => {
      child.send('gc');
      return message(child, isMemory);
    };
    const before = await memory();
    const joined: User[] = [];
    for (let n = 0; n < users; n++) joined.push(door === 'tcp' ? await tcpUser(ports.tcp, `u${n}`) : await sshUser(ports.ssh, `u${n}`));
    await Promise.all(joined.map((user) => user.lines(0)));
    const after = await memory();
    const sender = joined[0];
    if (sender === undefined) throw new Error('no users');
    const started = performance.now();
    const delivered = Promise.all(joined.map((user) => user.lines(lines)));
    for (let n = 0; n < lines; n++) sender.write(`line ${n} ${'x'.repeat(40)}\n`);
    await delivered;
    const seconds = (performance.now() - started) / 1000;
    process.stdout.write(`${door}: ${users} users, RSS per idle logged-in user ${((after.rss - before.rss) / users / 1024).toFixed(1)} KiB `
      + `(JS heap ${((after.heapUsed - before.heapUsed) / users / 1024).toFixed(1)} KiB); `
      + `${lines} lines to ${users} users in ${seconds.toFixed(2)} s: ${Math.round((lines * users) / seconds).toLocaleString('en')} deliveries/s\n`);
    for (const user of joined) user.close();
    child.kill();
  }
}

if (process.argv[2] === 'serve') serve().catch((err: unknown) => { throw err; });
else main(Number(process.argv[2] ?? 100), Number(process.argv[3] ?? 2000)).catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
