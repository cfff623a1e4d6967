import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { networkInterfaces } from 'node:os';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { CONNECTING_TOO_FAST, SERVER_FULL, tooManyConnections } from '../lib/chat/texts';
import { type ChatServer, type ChatServerOptions, createChatServer, MAX_REFUSALS_CLOSING, type ServerEvent } from '../lib/server';
import { type Client, readingClient } from './support/client';
import { sample, scrape } from './support/scrape';
import { clientHello, connectTlsClient, stalledHandshake, useCertificates } from './support/tls';

const certificates = useCertificates();
let server: ChatServer | undefined;
let events: ServerEvent[];
let reported: (event: ServerEvent) => void;
const sockets: Socket[] = [];
let hello: Buffer;

beforeAll(async () => {
  hello = await clientHello();
});

beforeEach(() => {
  events = [];
  reported = () => {};
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = undefined;
});

interface Ports {
  readonly plain: number;
  readonly tls: number;
  readonly metrics: number;
}

async function start(options: Partial<ChatServerOptions> = {}): Promise<Ports> {
  server = createChatServer({
    host: '127.0.0.1', port: 0, tls: { port: 0, ...certificates.first() }, metricsListen: { host: '127.0.0.1', port: 0 }, ...options,
    onEvent: (event) => {
      events.push(event);
      reported(event);
    },
  });
  await server.listen();
  return { plain: server.address()?.port ?? -1, tls: server.tlsAddress()?.port ?? -1, metrics: server.metricsAddress()?.port ?? -1 };
}

/** Resolves with the next `count` events, reported from now on, that `match`. */
const nextEvents = (count: number, match: (event: ServerEvent) => boolean): Promise<ServerEvent[]> =>
  new Promise((resolve) => {
    const found: ServerEvent[] = [];
    reported = (event) => {
      if (match(event)) found.push(event);
      if (found.length === count) resolve(found);
    };
  });

const kept = <T extends Socket>(socket: T): T => {
  sockets.push(socket);
  return socket;
};

/** A plain connection, with its own port: the peer's port as the server logs it. */
async function plain(port: number, host = '127.0.0.1'): Promise<Client & { readonly port: number | undefined }> {
  const client = await readingClient(kept(connect(port, host)), 'connect');
  return { ...client, port: client.socket.localPort }; // read now: once closed, a socket no longer knows it
}

async function visit(port: number): Promise<Client> {
  const client = await plain(port);
  await client.until('username: ');
  return client;
}

/** A TLS connection that the server closes before its handshake is done: how it ended. Rejects
 * if the handshake is done. */
async function refusedTls(port: number): Promise<Error> {
  const socket = kept(connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false }));
  const secured = new Promise<never>((_, reject) => socket.once('secureConnect', () => reject(new Error('the handshake was done'))));
  const [error] = await Promise.race([once(socket, 'error'), secured]);
  return error instanceof Error ? error : new Error(String(error));
}

async function figure(port: number, series: string): Promise<number> {
  return sample((await scrape(port, '/metrics')).body, series);
}

describe('connections at the door', () => {
  it('counts unfinished TLS handshakes against the clients served and in the metrics, from accept', async () => {
    const ports = await start({ maxClients: 2 });
    const stalled = [kept(await stalledHandshake(ports.tls, hello)), kept(await stalledHandshake(ports.tls, hello))];
    expect(await figure(ports.metrics, 'chatd_connections{state="handshake"}')).toBe(2);
    expect(await (await plain(ports.plain)).rest()).toBe(SERVER_FULL);
    expect((await refusedTls(ports.tls)).message).toMatch(/socket disconnected|ECONNRESET|socket hang up/);
    const failed = nextEvents(2, (event) => event.kind === 'handshake-failed');
    const stalledPorts = stalled.map(({ localPort }) => localPort);
    for (const socket of stalled) socket.destroy();
    // Ended by the peer mid-handshake: dropped at once, not held until the handshake's timeout.
    const failures = (await failed).map((event) => (event.kind === 'handshake-failed' ? `${event.from} ${event.reason}` : event.kind)).sort();
    expect(failures).toEqual(stalledPorts.map((port) => `127.0.0.1:${port} closed`).sort());
    expect(await figure(ports.metrics, 'chatd_connections{state="handshake"}')).toBe(0);
    expect(await figure(ports.metrics, 'chatd_tls_handshakes_failed_total')).toBe(2);
    expect(await figure(ports.metrics, 'chatd_connections_refused_total{reason="full"}')).toBe(2);
    await visit(ports.plain); // the places are free again
  });

  it('logs a failed handshake with its peer\'s address, whether it timed out or the peer went away', async () => {
    const ports = await start({ handshakeTimeoutMs: 300 });
    const timedOut = nextEvents(1, (event) => event.kind === 'handshake-failed');
    const silent = kept(await stalledHandshake(ports.tls, hello));
    const port = silent.localPort;
    expect(await timedOut).toEqual([{ kind: 'handshake-failed', from: `127.0.0.1:${port}`, reason: 'ERR_TLS_HANDSHAKE_TIMEOUT' }]);
    const reset = nextEvents(1, (event) => event.kind === 'handshake-failed');
    const gone = kept(await stalledHandshake(ports.tls, hello));
    const gonePort = gone.localPort;
    gone.resetAndDestroy();
    expect(await reset).toEqual([{ kind: 'handshake-failed', from: `127.0.0.1:${gonePort}`, reason: 'closed' }]);
  });

  it('bounds the handshake by the login timeout when that is shorter', async () => {
    const ports = await start({ handshakeTimeoutMs: 60_000, loginTimeoutMs: 300 });
    const timedOut = nextEvents(1, (event) => event.kind === 'handshake-failed');
    kept(await stalledHandshake(ports.tls, hello));
    expect(await timedOut).toEqual([expect.objectContaining({ reason: 'ERR_TLS_HANDSHAKE_TIMEOUT' })]);
  });

  it('reports no failure for a handshake the shutdown cuts off', async () => {
    const ports = await start();
    const stalled = kept(await stalledHandshake(ports.tls, hello));
    const cut = once(stalled, 'close');
    await server?.close();
    await cut;
    await new Promise((resolve) => setImmediate(resolve)); // what the close set off has run
    expect(events.filter((event) => event.kind === 'handshake-failed')).toEqual([]);
  });

  it('bounds the connections one address holds at once, with one line, and lets it in again when one closes', async () => {
    const ports = await start({ exemptAddresses: [], maxConnectionsPerAddress: 2 });
    const first = await visit(ports.plain);
    await visit(ports.plain);
    const refused = await plain(ports.plain);
    expect(await refused.rest()).toBe(tooManyConnections(2));
    expect(events).toContainEqual({ kind: 'per_address', from: `127.0.0.1:${refused.port}` });
    const left = nextEvents(1, (event) => event.kind === 'disconnect');
    first.socket.destroy();
    await left;
    await visit(ports.plain);
    expect(await figure(ports.metrics, 'chatd_connections_refused_total{reason="per_address"}')).toBe(1);
  });

  it('bounds the new connections one address opens per second, past its burst, logging the first refusal of a run', async () => {
    const ports = await start({ exemptAddresses: [], connectBurst: 2, maxConnectsPerSecond: 0.01 });
    (await visit(ports.plain)).socket.destroy();
    (await visit(ports.plain)).socket.destroy();
    expect(await (await plain(ports.plain)).rest()).toBe(CONNECTING_TOO_FAST);
    expect(await (await plain(ports.plain)).rest()).toBe(CONNECTING_TOO_FAST);
    expect(await figure(ports.metrics, 'chatd_connections_refused_total{reason="connect_rate"}')).toBe(2);
    expect(events.filter((event) => event.kind === 'connect_rate')).toHaveLength(1);
  });

  it('tells at most MAX_REFUSALS_CLOSING refused connections at once why, and closes the next without a word', async () => {
    const ports = await start({ maxClients: 1, tls: undefined, shutdownGraceMs: 20_000 });
    await visit(ports.plain);
    for (let i = 0; i < MAX_REFUSALS_CLOSING; i++) {
      // Half-open, each reads its line and never closes: the server waits for that close.
      const lingering = await readingClient(kept(connect({ port: ports.plain, host: '127.0.0.1', allowHalfOpen: true })), 'connect');
      await lingering.until(SERVER_FULL);
    }
    expect(await (await plain(ports.plain)).rest()).toBe('');
    expect(await figure(ports.metrics, 'chatd_connections_refused_total{reason="full"}')).toBe(MAX_REFUSALS_CLOSING + 1);
  });

  it('closes a TLS connection over its address\'s limit before its handshake, and logs it', async () => {
    const ports = await start({ exemptAddresses: [], maxConnectionsPerAddress: 1 });
    const ann = await connectTlsClient(ports.tls);
    kept(ann.socket);
    await ann.until('username: ');
    await refusedTls(ports.tls);
    expect(events).toContainEqual({ kind: 'per_address', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
    expect(events.filter((event) => event.kind === 'handshake-failed')).toEqual([]);
    const left = nextEvents(1, (event) => event.kind === 'disconnect');
    ann.socket.destroy();
    await left;
    const bob = await connectTlsClient(ports.tls);
    kept(bob.socket);
    await bob.until('username: ');
  });

  it('refuses a renegotiation and closes the connection, logging why', async () => {
    const ports = await start();
    const ann = await connectTlsClient(ports.tls, { maxVersion: 'TLSv1.2' });
    const socket: TLSSocket = kept(ann.socket);
    ann.say('ann');
    await ann.until('*** ann just joined the chatroom\n');
    const left = nextEvents(1, (event) => event.kind === 'disconnect');
    const renegotiated = (): Promise<Error | null> => new Promise((resolve) => {
      socket.once('error', resolve);
      if (!socket.renegotiate({ rejectUnauthorized: false }, resolve)) resolve(new Error('renegotiation not started'));
    });
    let refusal: Error | null = null;
    for (let attempt = 0; attempt < 5 && refusal === null; attempt++) refusal = await renegotiated();
    expect(refusal).toEqual(expect.objectContaining({ code: 'ERR_SSL_NO_RENEGOTIATION' }));
    expect(await left).toEqual([expect.objectContaining({ kind: 'disconnect', reason: 'error', error: expect.stringMatching(/^ERR_SSL_/) })]);
    await ann.rest();
  });
});

const hasIpv6Loopback = Object.values(networkInterfaces()).some((each) => each?.some(({ address }) => address === '::1') === true);

(hasIpv6Loopback ? describe : describe.skip)('connections at the door over IPv6', () => {
  it('bounds the connections of an IPv6 peer by its /64, and logs it with its address', async () => {
    await start({ host: '::1', tls: undefined, exemptAddresses: [], maxConnectionsPerAddress: 1 });
    const port = server?.address()?.port ?? -1;
    const first = await plain(port, '::1');
    await first.until('username: ');
    const refused = await plain(port, '::1');
    expect(await refused.rest()).toBe(tooManyConnections(1));
    expect(events).toContainEqual({ kind: 'per_address', from: `[::1]:${refused.port}` });
  });
});
