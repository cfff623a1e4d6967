import { once } from 'node:events';
import type { Server } from 'node:http';
import type { Client } from '../support/client';
import { type Harness, startHarness } from '../support/client';
import { type Answer, sample, scrape } from '../support/scrape';
import type { Figures } from '../../lib/edge/connection-stats';
import { NO_PASSWORD_FIGURES } from '../../lib/store/throttle';
import { boundAddress, closeScrapes, listenForScrapes } from '../../lib/edge/metrics';
import { type ChatServerOptions, createChatServer, type ServerEvent } from '../../lib/server';

let harness: Harness | undefined;
let endpoint: Server | undefined;
const clients: Client[] = [];

afterEach(async () => {
  for (const { socket } of clients.splice(0)) socket.destroy();
  await harness?.stop();
  harness = undefined;
  if (endpoint !== undefined) await closeScrapes(endpoint);
  endpoint = undefined;
});

async function serve(options: Partial<ChatServerOptions> = {}): Promise<{ chat: Harness; metricsPort: number }> {
  harness = await startHarness({ metricsListen: { host: '127.0.0.1', port: 0 }, ...options });
  const address = harness.server.metricsAddress();
  if (address === null) throw new Error('no metrics endpoint');
  return { chat: harness, metricsPort: address.port };
}

/** What every client has read and written: what the server wrote and read. */
const readBytes = (all: readonly Client[]) => all.reduce((sum, { socket }) => sum + socket.bytesRead, 0);
const writtenBytes = (all: readonly Client[]) => all.reduce((sum, { socket }) => sum + socket.bytesWritten, 0);

async function metrics(port: number): Promise<string> {
  const answer: Answer = await scrape(port, '/metrics');
  expect(answer.status).toBe(200);
  expect(answer.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return answer.body;
}

describe('the metrics endpoint of a running server', () => {
  it('counts connections, lines, bytes and disconnects by exactly what happened', async () => {
    const { chat, metricsPort } = await serve();
    const ann = await chat.join('ann');
    const bob = await chat.join('bob');
    const visitor = await chat.visit();
    clients.push(ann, bob, visitor);
    await ann.until('*** bob just joined the chatroom\n');
    ann.say('hi');
    await ann.until('[ann] hi\n');
    await bob.until('[ann] hi\n');
    let body = await metrics(metricsPort);
    expect(sample(body, 'chatd_connections_accepted_total')).toBe(3);
    expect(sample(body, 'chatd_connections{state="logged_in"}')).toBe(2);
    expect(sample(body, 'chatd_connections{state="before_login"}')).toBe(1);
    expect(sample(body, 'chatd_lines_received_total')).toBe(3); // ann, bob, hi
    // greetings and prompts (3 each), welcomes (2), joins (ann's to ann, bob's to both), hi to both
    expect(sample(body, 'chatd_lines_delivered_total')).toBe(3 + 3 + 2 + 3 + 2);
    expect(sample(body, 'chatd_received_bytes_total')).toBe(writtenBytes([ann, bob, visitor]));
    expect(sample(body, 'chatd_sent_bytes_total')).toBe(readBytes([ann, bob, visitor]));
    expect(sample(body, 'chatd_rooms')).toBe(1);

    bob.say('/quit');
    await once(bob.socket, 'close');
    visitor.socket.end();
    await once(visitor.socket, 'close');
    ann.socket.resetAndDestroy();
    await once(ann.socket, 'close');
    const carl = await chat.join('carl'); // carl is in once the server has seen every close above
    clients.push(carl);
    body = await metrics(metricsPort);
    expect(sample(body, 'chatd_disconnects_total{reason="quit"}')).toBe(1);
    expect(sample(body, 'chatd_disconnects_total{reason="eof"}')).toBe(1);
    expect(sample(body, 'chatd_disconnects_total{reason="error"}')).toBe(1);
    expect(sample(body, 'chatd_disconnects_total{reason="login_timeout"}')).toBe(0);
    expect(sample(body, 'chatd_connections{state="logged_in"}')).toBe(1);
    expect(sample(body, 'chatd_connections{state="before_login"}')).toBe(0);
    expect(sample(body, 'nodejs_eventloop_lag_seconds')).toBeGreaterThanOrEqual(0);
  });

  it('counts a login timeout and a refusal when full', async () => {
    let slowGone = (): void => {};
    const gone = new Promise<void>((resolve) => (slowGone = resolve));
    const onEvent = (event: ServerEvent) => {
      if (event.kind === 'disconnect' && event.reason === 'login_timeout') slowGone();
    };
    const { chat, metricsPort } = await serve({ loginTimeoutMs: 300, maxClients: 1, onEvent });
    const slow = await chat.visit();
    const refused = await chat.open();
    clients.push(slow, refused);
    expect(await refused.rest()).toBe('*** server full\n');
    expect(await slow.rest()).toBe('\n*** login timed out\n');
    await gone; // the client may see its end before the server has let the socket go
    const visitor = await chat.visit();
    clients.push(visitor);
    const body = await metrics(metricsPort);
    expect(sample(body, 'chatd_disconnects_total{reason="login_timeout"}')).toBe(1);
    expect(sample(body, 'chatd_connections_refused_total{reason="full"}')).toBe(1);
    expect(sample(body, 'chatd_connections_accepted_total')).toBe(2);
  });

  it('counts lines dropped for their length and for flooding, one by one', async () => {
    const rateLimits = { linesPerSecond: 0.001, burstLines: 1, maxQueuedLines: 1 };
    const { chat, metricsPort } = await serve({ maxLineBytes: 10, rateLimits });
    const ann = await chat.join('ann');
    clients.push(ann);
    ann.socket.write(`${'x'.repeat(11)}\n`);
    await ann.until('*** line too long (max 10 bytes)\n');
    // the overlong line spent the burst: one waits for its turn, four are dropped
    ann.socket.write('a\nb\nc\nd\ne\n');
    await ann.until('*** slow down\n');
    const body = await metrics(metricsPort);
    expect(sample(body, 'chatd_lines_dropped_total{reason="overlong"}')).toBe(1);
    expect(sample(body, 'chatd_lines_dropped_total{reason="flood"}')).toBe(4);
    expect(sample(body, 'chatd_lines_received_total')).toBe(6);
  });

  it('reports the disconnects of a shutdown as such', async () => {
    const events: ServerEvent[] = [];
    const { chat } = await serve({ onEvent: (event) => events.push(event) });
    clients.push(await chat.join('ann'), await chat.visit());
    await chat.server.close();
    const reasons = events.flatMap((event) => (event.kind === 'disconnect' ? [event.reason] : []));
    expect(reasons).toEqual(['shutdown', 'shutdown']);
    expect(chat.server.metricsAddress()).toBeNull();
  });

  it('serves /stats and /healthz, and answers 404 to another path and 405 to another method', async () => {
    const { metricsPort } = await serve();
    const stats = await scrape(metricsPort, '/stats');
    expect(stats.body).toMatch(/^up for \d+s\nconnections: 0 logged in, 0 before login, 0 in TLS handshake; 0 accepted, 0 refused \(full\), 0 refused \(per address\), 0 refused \(connect rate\)\n/);
    expect((await scrape(metricsPort, '/healthz')).status).toBe(200);
    expect((await scrape(metricsPort, '/metrics?x=1')).status).toBe(200);
    expect((await scrape(metricsPort, '/')).status).toBe(404);
    expect((await scrape(metricsPort, '/metricsx')).status).toBe(404);
    const posted = await scrape(metricsPort, '/metrics', 'POST');
    expect(posted.status).toBe(405);
    expect(posted.headers['allow']).toBe('GET, HEAD');
    expect((await scrape(metricsPort, '/healthz', 'DELETE')).status).toBe(405);
  });

  it('rejects listen() when either port is taken, and holds neither', async () => {
    const { chat, metricsPort } = await serve();
    const second = createChatServer({ host: '127.0.0.1', port: 0, metricsListen: { host: '127.0.0.1', port: metricsPort } });
    await expect(second.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(second.address()).toBeNull();
    const third = createChatServer({ host: '127.0.0.1', port: chat.port, metricsListen: { host: '127.0.0.1', port: 0 } });
    await expect(third.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(third.metricsAddress()).toBeNull();
  });
});

describe('listenForScrapes', () => {
  const figures: Figures = {
    uptimeSeconds: 1, handshaking: 0, beforeLogin: 0, loggedIn: 0, accepted: 0, refused: { full: 0, per_address: 0, connect_rate: 0 }, handshakesFailed: 0,
    disconnects: { eof: 0, error: 0, login_timeout: 0, login_limit: 0, wrong_password: 0, send_queue: 0, quit: 0, kick: 0, banned: 0, replaced: 0, shutdown: 0 },
    linesReceived: 0, linesDelivered: 0, linesOverlong: 0, linesFlooded: 0, bytesIn: 0, bytesOut: 0, largestSendQueueBytes: 0, rooms: 0,
    cluster: undefined, passwords: NO_PASSWORD_FIGURES,
  };

  it('answers /healthz with 503 once the server no longer accepts', async () => {
    let accepting = true;
    endpoint = await listenForScrapes({ host: '127.0.0.1', port: 0 }, { figures: () => figures, accepting: () => accepting });
    const { port } = boundAddress(endpoint);
    expect((await scrape(port, '/healthz')).status).toBe(200);
    accepting = false;
    expect(await scrape(port, '/healthz')).toMatchObject({ status: 503, body: 'closing\n' });
  });

  it('shows the bus and the cluster\'s nodes on a cluster\'s node alone', async () => {
    let cluster: Figures['cluster'] = { busUp: true, nodes: 3 };
    endpoint = await listenForScrapes({ host: '127.0.0.1', port: 0 }, { figures: () => ({ ...figures, cluster }), accepting: () => true });
    const alone = await listenForScrapes({ host: '127.0.0.1', port: 0 }, { figures: () => figures, accepting: () => true });
    try {
      const { port } = boundAddress(endpoint);
      expect(sample((await scrape(port, '/metrics')).body, 'chatd_bus_up')).toBe(1);
      expect(sample((await scrape(port, '/metrics')).body, 'chatd_cluster_nodes')).toBe(3);
      cluster = { busUp: false, nodes: 1 };
      expect(sample((await scrape(port, '/metrics')).body, 'chatd_bus_up')).toBe(0);
      expect(sample((await scrape(port, '/metrics')).body, 'chatd_cluster_nodes')).toBe(1);
      expect((await scrape(port, '/stats')).body).toContain('\ncluster: bus down, 1 node alive\n');
      const single = await scrape(boundAddress(alone).port, '/metrics');
      expect(single.body).not.toContain('chatd_bus_up');
      expect(single.body).not.toContain('chatd_cluster_nodes');
    } finally {
      await closeScrapes(alone);
    }
  });

  it('keeps two registries apart: two endpoints in one process both serve', async () => {
    endpoint = await listenForScrapes({ host: '127.0.0.1', port: 0 }, { figures: () => figures, accepting: () => true });
    const other = await listenForScrapes({ host: '127.0.0.1', port: 0 }, { figures: () => ({ ...figures, rooms: 7 }), accepting: () => true });
    try {
      expect(sample((await scrape(boundAddress(endpoint).port, '/metrics')).body, 'chatd_rooms')).toBe(0);
      expect(sample((await scrape(boundAddress(other).port, '/metrics')).body, 'chatd_rooms')).toBe(7);
    } finally {
      await closeScrapes(other);
    }
  });
});
