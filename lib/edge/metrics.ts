import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { DISCONNECT_REASONS, type Figures, REFUSAL_REASONS, statsText } from './connection-stats';

/** Where the metrics endpoint listens. */
export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** What the endpoint reads of its server at each request. */
export interface MetricsSource {
  figures(): Figures;
  /** True while the server accepts connections: `/healthz` answers 200, then 503. */
  accepting(): boolean;
}

/** The endpoint's paths; any other is 404, any other method than these 405. */
const PATHS = new Set(['/metrics', '/healthz', '/stats']);
const METHODS = 'GET, HEAD';

const counter = (registry: Registry, name: string, help: string, labelNames: readonly string[] = []) =>
  new Counter({ name, help, labelNames, registers: [registry] });
const gauge = (registry: Registry, name: string, help: string, labelNames: readonly string[] = []) =>
  new Gauge({ name, help, labelNames, registers: [registry] });

/** A counter set to a total counted elsewhere: counts live in plain numbers, not in prom-client. */
function setTotal(metric: Counter, value: number, labels?: Record<string, string>): void {
  if (labels === undefined) {
    metric.reset();
    metric.inc(value);
  } else {
    metric.remove(labels);
    metric.inc(labels, value);
  }
}

/**
 * A server's figures in the Prometheus text format, in a registry of its own (two servers in
 * one process do not share one), with the process and event-loop metrics of prom-client.
 */
export class PrometheusFigures {
  readonly registry = new Registry();
  private readonly connections = gauge(this.registry, 'chatd_connections', 'Connections open now, by state', ['state']);
  private readonly accepted = counter(this.registry, 'chatd_connections_accepted_total', 'Connections accepted');
  private readonly refused = counter(this.registry, 'chatd_connections_refused_total', 'Connections refused at once, by reason', ['reason']);
  private readonly handshakesFailed = counter(this.registry, 'chatd_tls_handshakes_failed_total', 'TLS handshakes that failed, timed out or were given up by the peer');
  private readonly disconnects = counter(this.registry, 'chatd_disconnects_total', 'Accepted connections that ended, by reason', ['reason']);
  private readonly received = counter(this.registry, 'chatd_lines_received_total', 'Lines read from users within the line limit');
  private readonly delivered = counter(this.registry, 'chatd_lines_delivered_total', 'Texts written to users, once per receiver');
  private readonly dropped = counter(this.registry, 'chatd_lines_dropped_total', 'Lines dropped, by reason', ['reason']);
  private readonly bytesIn = counter(this.registry, 'chatd_received_bytes_total', 'Bytes read from connections');
  private readonly bytesOut = counter(this.registry, 'chatd_sent_bytes_total', 'Bytes written to connections');
  private readonly sendQueue = gauge(this.registry, 'chatd_send_queue_largest_bytes', 'The most bytes queued unread for one connection now');
  private readonly rooms = gauge(this.registry, 'chatd_rooms', 'Rooms that exist now');
  private readonly uptime = gauge(this.registry, 'chatd_uptime_seconds', 'Seconds since the chat started');
  private readonly passwordChecks = counter(this.registry, 'chatd_password_checks_total', 'Password checks by result: right, wrong, unchecked (too many at once), error', ['result']);
  private readonly passwordWaits = counter(this.registry, 'chatd_password_waits_total', 'Password checks made to wait for their turn (guessing slowed)');
  private readonly passwordWaitSeconds = counter(this.registry, 'chatd_password_wait_seconds_total', 'Seconds password checks were made to wait, in all');
  private cluster: { readonly busUp: Gauge; readonly nodes: Gauge } | undefined; // registered on a cluster's node alone

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition of `figures` and the process metrics. */
  async text(figures: Figures): Promise<string> {
    this.connections.set({ state: 'handshake' }, figures.handshaking);
    this.connections.set({ state: 'before_login' }, figures.beforeLogin);
    this.connections.set({ state: 'logged_in' }, figures.loggedIn);
    setTotal(this.accepted, figures.accepted);
    for (const reason of REFUSAL_REASONS) setTotal(this.refused, figures.refused[reason], { reason });
    setTotal(this.handshakesFailed, figures.handshakesFailed);
    for (const reason of DISCONNECT_REASONS) setTotal(this.disconnects, figures.disconnects[reason], { reason });
    setTotal(this.received, figures.linesReceived);
    setTotal(this.delivered, figures.linesDelivered);
    setTotal(this.dropped, figures.linesOverlong, { reason: 'overlong' });
    setTotal(this.dropped, figures.linesFlooded, { reason: 'flood' });
    setTotal(this.bytesIn, figures.bytesIn);
    setTotal(this.bytesOut, figures.bytesOut);
    this.sendQueue.set(figures.largestSendQueueBytes);
    this.rooms.set(figures.rooms);
    this.uptime.set(figures.uptimeSeconds);
    const { passwords } = figures;
    setTotal(this.passwordChecks, passwords.right, { result: 'right' });
    setTotal(this.passwordChecks, passwords.wrong, { result: 'wrong' });
    setTotal(this.passwordChecks, passwords.unchecked, { result: 'unchecked' });
    setTotal(this.passwordChecks, passwords.failed, { result: 'error' });
    setTotal(this.passwordWaits, passwords.waits);
    setTotal(this.passwordWaitSeconds, passwords.waitSeconds);
    if (figures.cluster !== undefined) {
      this.cluster ??= {
        busUp: gauge(this.registry, 'chatd_bus_up', '1 while Redis answers and this node is one with the others, else 0'),
        nodes: gauge(this.registry, 'chatd_cluster_nodes', 'Cluster nodes alive at the last look, this one included'),
      };
      this.cluster.busUp.set(figures.cluster.busUp ? 1 : 0);
      this.cluster.nodes.set(figures.cluster.nodes);
    }
    return this.registry.metrics();
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), ...headers }).end(body);
}

const PLAIN = 'text/plain; charset=utf-8';

async function respond(req: IncomingMessage, res: ServerResponse, source: MetricsSource, prometheus: PrometheusFigures): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://chatd').pathname;
  if (!PATHS.has(path)) return send(res, 404, PLAIN, 'not found\n');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, PLAIN, 'method not allowed\n', { Allow: METHODS });
  if (path === '/healthz') return source.accepting() ? send(res, 200, PLAIN, 'ok\n') : send(res, 503, PLAIN, 'closing\n');
  if (path === '/stats') return send(res, 200, PLAIN, statsText(source.figures()));
  send(res, 200, prometheus.registry.contentType, await prometheus.text(source.figures()));
}

const ignoreError = (): void => {};

/**
 * The HTTP endpoint: GET `/metrics` (Prometheus), `/stats` (the same, for a person), `/healthz`.
 * Resolves once listening; rejects if the address cannot be bound.
 */
export async function listenForScrapes(address: MetricsAddress, source: MetricsSource): Promise<Server> {
  const prometheus = new PrometheusFigures();
  const server = createServer((req, res) => {
    res.on('error', ignoreError); // a scraper that hangs up must not crash chatd
    respond(req, res, source, prometheus).catch(() => {
      if (!res.headersSent) send(res, 500, PLAIN, 'metrics failed\n');
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy()); // a malformed request, or a reset
  server.listen({ host: address.host, port: address.port });
  await once(server, 'listening'); // rejects with the bind error
  server.on('error', ignoreError); // once listening, an accept error (EMFILE) costs one scrape
  return server;
}

/** The bound address of a listening endpoint. */
export function boundAddress(server: Server): AddressInfo {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the metrics endpoint listens on TCP only');
  return address;
}

/** Closes the endpoint, keep-alive connections too; resolves once it is closed. */
export async function closeScrapes(server: Server): Promise<void> {
  const closed = once(server, 'close');
  server.close();
  server.closeAllConnections();
  await closed;
}
