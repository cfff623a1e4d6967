import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { ChatServerOptions } from '../../lib/server';
import { type Client, type Harness, startHarness } from './client';

/** A redis-server of a spec's own, on a unix socket in a temporary folder, keeping nothing on disk. */
export interface RedisServer {
  /** The socket's path, which `--redis` and ioredis take as they take a URL. */
  readonly url: string;
  /** SIGKILLs it, as a crash would; resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same socket: empty, or with what it had if started to keep its data. */
  restart(): Promise<void>;
  /** Kills it and removes its folder. */
  stop(): Promise<void>;
}

const available = spawnSync('redis-server', ['--version']).error === undefined;

/** Whether a restarted Redis starts empty, or with every write made before it died, as a Redis with an append-only file does. */
export type RedisData = 'lost' | 'kept';

async function launch(socket: string, data: RedisData): Promise<ChildProcess> {
  const persistence = data === 'kept' ? ['--dir', dirname(socket), '--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', ...persistence], { stdio: ['ignore', 'pipe', 'inherit'] });
  await ready(child);
  return child;
}

/** A redis-server on TCP (loopback) that asks for a password, with a TLS port beside the plain one when given a certificate. */
export interface GuardedRedis {
  readonly port: number;
  /** The TLS port; undefined without a certificate. */
  readonly tlsPort: number | undefined;
  /** Kills it and waits for its exit. */
  stop(): Promise<void>;
}

/** A port the OS says is free now (redis-server cannot be told to pick one and say which). */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

export async function startGuardedRedis(password: string, tls?: { readonly certFile: string; readonly keyFile: string }): Promise<GuardedRedis> {
  const port = await freePort();
  const tlsPort = tls === undefined ? undefined : await freePort();
  const tlsArgs = tls === undefined || tlsPort === undefined ? []
    : ['--tls-port', String(tlsPort), '--tls-cert-file', tls.certFile, '--tls-key-file', tls.keyFile, '--tls-auth-clients', 'no'];
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '-::1', '--requirepass', password, '--save', '', '--appendonly', 'no', ...tlsArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  await ready(child);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  return { port, tlsPort, stop };
}

/** Resolves once the redis-server `child` says it is ready; rejects if it exits first. */
async function ready(child: ChildProcess): Promise<void> {
  let seen = '';
  child.stdout?.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: string) => {
      seen += chunk;
      if (/ready to accept connections/i.test(seen)) resolve();
    });
    child.once('exit', () => reject(new Error(`redis-server exited: ${seen}`)));
  });
  child.stdout?.resume();
}

export async function startRedis(data: RedisData = 'lost'): Promise<RedisServer> {
  const folder = mkdtempSync(join(tmpdir(), 'chatd-redis-'));
  const url = join(folder, 'redis.sock');
  let child = await launch(url, data);
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const restart = async () => {
    await kill();
    rmSync(url, { force: true });
    child = await launch(url, data);
  };
  const stop = async () => {
    await kill();
    rmSync(folder, { recursive: true, force: true });
  };
  return { url, kill, restart, stop };
}

/**
 * `describe` for specs that need redis-server. Without it they are skipped (the run's global
 * setup, redis-check.ts, says so once for them all); with CI set, a missing redis-server fails
 * the run instead.
 */
export function describeWithRedis(title: string, specs: () => void): void {
  if (available) describe(title, specs);
  else if (process.env['CI'] !== undefined) {
    describe(title, () => it('has redis-server to run on', () => { throw new Error('redis-server is missing, and CI is set'); }));
  } else describe.skip(title, specs);
}

/** A way to a Redis that a spec can cut, as a network partition cuts one node off while the others keep Redis. */
export interface RedisProxy {
  /** A unix socket's path that leads to the Redis while the way is not cut. */
  readonly url: string;
  /** Ends every connection through it, and ends each new one at once, until `mend`. */
  cut(): void;
  /** Lets new connections through again. */
  mend(): void;
  /** Passes nothing either way, and closes nothing, as a network that drops every packet; until `thaw`. */
  freeze(): void;
  /** Passes again what waited and what comes. */
  thaw(): void;
  /** Stops listening, ends every connection and removes its folder. */
  close(): Promise<void>;
}

/** A RedisProxy to the Redis at `target` (a unix socket's path). */
export async function redisProxy(target: string): Promise<RedisProxy> {
  const folder = mkdtempSync(join(tmpdir(), 'chatd-proxy-'));
  const url = join(folder, 'proxy.sock');
  const sockets = new Set<Socket>();
  const links = new Set<readonly [Socket, Socket]>();
  let open = true;
  let frozen = false;
  const pass = ([client, upstream]: readonly [Socket, Socket]) => client.pipe(upstream).pipe(client);
  const hold = ([client, upstream]: readonly [Socket, Socket]) => {
    client.unpipe(upstream).pause();
    upstream.unpipe(client).pause();
  };
  const track = (socket: Socket): Socket => {
    sockets.add(socket);
    socket.on('error', () => {}).once('close', () => sockets.delete(socket));
    return socket;
  };
  const server = createServer((client) => {
    track(client);
    if (!open) {
      client.destroy();
      return;
    }
    const link = [client, track(connect(target))] as const;
    links.add(link);
    if (!frozen) pass(link);
    const [, upstream] = link;
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => {
      client.destroy();
      links.delete(link);
    });
  });
  server.listen(url);
  await once(server, 'listening');
  const cut = () => {
    open = false;
    for (const socket of sockets) socket.destroy();
  };
  const close = async () => {
    cut();
    await new Promise((resolve) => server.close(resolve));
    rmSync(folder, { recursive: true, force: true });
  };
  const freeze = () => {
    frozen = true;
    links.forEach(hold);
  };
  const thaw = () => {
    frozen = false;
    links.forEach(pass);
  };
  return { url, cut, mend: () => (open = true), freeze, thaw, close };
}

let prefixes = 0;

/** A key prefix no other spec in this process uses. */
export const uniquePrefix = (): string => `spec${process.pid}-${++prefixes}:`;

/** Flood limits out of the way for cluster specs, which send faster than a person types. */
const UNPACED = { linesPerSecond: 1000, burstLines: 1000, maxQueuedLines: 1000 };

/** A Redis for each spec of the enclosing describe, and chatd nodes on it, all stopped after each. */
export interface ClusterFixture {
  /** This spec's Redis. */
  readonly redis: () => RedisServer;
  /** A chatd node in this process on this spec's Redis, under `prefix`, with any other options. */
  readonly node: (prefix: string, options?: Partial<ChatServerOptions>) => Promise<Harness>;
  /** A way to this spec's Redis that the spec can cut (a node given its `url` as `redis`), closed after the nodes. */
  readonly proxy: () => Promise<RedisProxy>;
  /** Two nodes under `prefix` (the second with `options`), ann logged in on the first and bob on the second, each seen by the other's node. */
  readonly annAndBob: (prefix: string, options?: Partial<ChatServerOptions>) => Promise<AnnAndBob>;
}

export interface AnnAndBob {
  readonly a: Harness;
  readonly b: Harness;
  readonly ann: Client;
  readonly bob: Client;
}

/** Registers, in the enclosing describe, the hooks that start and stop a ClusterFixture. */
export function useCluster(data: RedisData = 'lost'): ClusterFixture {
  let redis: RedisServer | undefined;
  const nodes: Harness[] = [];
  const proxies: RedisProxy[] = [];
  const current = (): RedisServer => {
    if (redis === undefined) throw new Error('no Redis outside a spec');
    return redis;
  };
  beforeEach(async () => {
    redis = await startRedis(data);
  });
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((harness) => harness.stop()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
    await redis?.stop();
  });
  const node = async (prefix: string, options: Partial<ChatServerOptions> = {}): Promise<Harness> => {
    const harness = await startHarness({ redis: current().url, redisPrefix: prefix, rateLimits: UNPACED, ...options });
    nodes.push(harness);
    return harness;
  };
  const proxy = async (): Promise<RedisProxy> => {
    const made = await redisProxy(current().url);
    proxies.push(made);
    return made;
  };
  const annAndBob = async (prefix: string, options: Partial<ChatServerOptions> = {}): Promise<AnnAndBob> => {
    const [a, b] = [await node(prefix), await node(prefix, options)];
    const ann = await a.join('ann');
    const bob = await b.join('bob');
    await ann.until('*** bob just joined the chatroom\n');
    return { a, b, ann, bob };
  };
  return { redis: current, node, proxy, annAndBob };
}
