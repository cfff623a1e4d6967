import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { ignoreElements, merge, Subject, type Subscription, tap } from 'rxjs';
import type { Bus } from './bus/bus';
import { memoryBus } from './bus/memory';
import { type RedisBus, redisBus } from './bus/redis';
import { chat } from './chat/chat';
import type { ChatEvent, UserId } from './chat/events';
import type { Connection } from './chat/outgoing';
import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from './chat/session';
import { ChatState, HISTORY_LINES } from './chat/state';
import { SERVER_FULL, SHUTTING_DOWN } from './chat/texts';
import { localFanout, MAX_SEND_QUEUE_BYTES } from './edge/fanout';
import { socketLines } from './edge/lines';

export const DEFAULT_PORT = 6677;
/** Default for the connections served at once; one more is told the server is full. */
export const MAX_CLIENTS = 10_000;
/** Default idle time before TCP keepalive probes look for a vanished peer. */
export const KEEPALIVE_IDLE_MS = 60_000;
/** Default time a shutdown waits for peers to read their last lines before cutting them off. */
export const SHUTDOWN_GRACE_MS = 3_000;

/** What the server reports as it runs, for a log. */
export type ServerEvent =
  | { readonly kind: 'connect'; readonly id: UserId; readonly from: string }
  | { readonly kind: 'login'; readonly id: UserId; readonly nick: string }
  | { readonly kind: 'rename'; readonly id: UserId; readonly from: string; readonly nick: string }
  | { readonly kind: 'logout'; readonly id: UserId; readonly nick: string }
  | { readonly kind: 'disconnect'; readonly id: UserId; readonly reason: string }
  | { readonly kind: 'full'; readonly from: string }
  | { readonly kind: 'bus'; readonly message: string }
  | { readonly kind: 'error'; readonly error: Error };

export interface ChatServerOptions extends SessionOptions {
  /** Chat and `/me` lines a room keeps for those who join it; 0 keeps none. */
  readonly historyLines: number;
  /** Interface to listen on; undefined listens on all of them. */
  readonly host: string | undefined;
  readonly port: number;
  readonly maxClients: number;
  readonly maxSendQueueBytes: number;
  readonly keepAliveIdleMs: number;
  readonly shutdownGraceMs: number;
  readonly onEvent: (event: ServerEvent) => void;
  /** Redis to run the bus on (`redis://host:port` or a unix socket's path), making this node one of a cluster; undefined serves alone. */
  readonly redis: string | undefined;
  /** Put before every Redis key, so that several clusters can share one Redis. */
  readonly redisPrefix: string;
}

export const DEFAULT_SERVER_OPTIONS: ChatServerOptions = {
  ...DEFAULT_SESSION_OPTIONS,
  historyLines: HISTORY_LINES,
  host: undefined,
  port: DEFAULT_PORT,
  maxClients: MAX_CLIENTS,
  maxSendQueueBytes: MAX_SEND_QUEUE_BYTES,
  keepAliveIdleMs: KEEPALIVE_IDLE_MS,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  onEvent: () => {},
  redis: undefined,
  redisPrefix: 'chatd:',
};

/** A chat server: listen once, then close once. */
export interface ChatServer {
  /** Resolves with the bound address once listening; rejects if the port cannot be bound. */
  listen(): Promise<AddressInfo>;
  /** The bound address, or null before listen() resolves and after close(). */
  address(): AddressInfo | null;
  /** The names of the users logged in now, in the order they logged in. */
  users(): string[];
  /** Stops accepting, tells every user, and resolves once every socket is closed. */
  close(): Promise<void>;
}

/** The peer as a log shows it; an IPv4 peer on a dual-stack socket shows as plain IPv4. */
function peerName(socket: Socket): string {
  const address = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.)/, '');
  return address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`;
}

const reasonOf = (err: Error | null): string => {
  if (err === null) return 'closed';
  return 'code' in err && typeof err.code === 'string' ? err.code : err.message;
};

/** Every socket's first 'error' listener, never removed: a late reset must not crash chatd. The
 * error itself is read from `socket.errored` when the socket closes. One function for all sockets,
 * since each listener is held for a connection's whole stay. */
const ignoreError = (): void => {};

/** Creates a chat server from options, each defaulting to DEFAULT_SERVER_OPTIONS. */
export function createChatServer(overrides: Partial<ChatServerOptions> = {}): ChatServer {
  const options: ChatServerOptions = { ...DEFAULT_SERVER_OPTIONS, ...overrides };
  const report = options.onEvent;
  const sockets = new Set<Socket>();
  const fanout = localFanout(options.maxSendQueueBytes);
  const connections = new Subject<Connection>();
  const state = new ChatState(options.historyLines);
  const nodeId = randomBytes(4).toString('hex'); // per process start: a restarted node is a new one
  let cluster: RedisBus | undefined;
  let bus: Bus = memoryBus();
  let nextId = 1;
  let subscription: Subscription | undefined;

  const accept = (socket: Socket) => {
    socket.on('error', ignoreError);
    sockets.add(socket);
    if (fanout.size >= options.maxClients) {
      socket.on('close', () => sockets.delete(socket));
      report({ kind: 'full', from: peerName(socket) });
      socket.end(SERVER_FULL);
      socket.destroySoon();
      return;
    }
    const id = cluster === undefined ? String(nextId++) : `${nodeId}:${nextId++}`;
    socket.setNoDelay(true); // writes are coalesced per event-loop turn; Nagle would add latency
    socket.setKeepAlive(true, options.keepAliveIdleMs);
    // One 'close' listener for all of the socket's bookkeeping: each listener is held for a user's whole stay.
    socket.on('close', () => {
      sockets.delete(socket);
      fanout.detach(id);
      report({ kind: 'disconnect', id, reason: reasonOf(socket.errored) });
    });
    fanout.attach(id, socket);
    report({ kind: 'connect', id, from: peerName(socket) });
    connections.next({ id, input$: socketLines(socket, options.maxLineBytes) });
  };

  const server = createServer(accept);

  const logEvent = (event: ChatEvent) => {
    if (event.type === 'joined') report({ kind: 'login', id: event.user, nick: event.nick });
    else if (event.type === 'renamed') report({ kind: 'rename', id: event.user, from: event.from, nick: event.nick });
    else if (event.type === 'left') report({ kind: 'logout', id: event.user, nick: event.nick });
  };

  const start = () => {
    server.on('error', (error) => report({ kind: 'error', error })); // accept errors (EMFILE) pass
    if (options.redis !== undefined) {
      const log = (message: string) => report({ kind: 'bus', message });
      bus = cluster = redisBus({ url: options.redis, prefix: options.redisPrefix, nodeId, snapshot: () => state.toJSON(), log });
    }
    const logged$ = bus.events$.pipe(tap(logEvent), ignoreElements());
    subscription = merge(chat(connections, { state, bus }, options), logged$).subscribe((out) => fanout.deliver(out));
  };

  const listen = async (): Promise<AddressInfo> => {
    start(); // first: a cluster's node takes no one in before it has the cluster's state
    try {
      await cluster?.ready;
      server.listen({ port: options.port, host: options.host });
      await once(server, 'listening'); // rejects with the bind error (EADDRINUSE, EACCES)
    } catch (err) {
      subscription?.unsubscribe();
      await cluster?.close();
      throw err;
    }
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('chatd listens on TCP only');
    return address;
  };

  const close = async (): Promise<void> => {
    if (!server.listening) return;
    const serverClosed = once(server, 'close');
    // The server's 'close' can come before the last socket's 'close' listeners have run.
    const socketsClosed = [...sockets].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    server.close(); // stop accepting
    // The room goes quiet first: no leave lines after the notice. Each session's departure is
    // still published, so on a cluster's bus the other nodes see this node's users leave.
    subscription?.unsubscribe();
    connections.complete();
    fanout.flush(); // what the room said before it went quiet comes before the notice
    for (const socket of sockets) {
      if (socket.writable) socket.end(SHUTTING_DOWN);
      socket.destroySoon();
    }
    // A peer that reads nothing would hold its socket open forever.
    const cutOff = setTimeout(() => sockets.forEach((socket) => socket.destroy()), options.shutdownGraceMs);
    await Promise.all([serverClosed, ...socketsClosed, cluster?.close()]); // the departures written first
    clearTimeout(cutOff);
  };


  return {
    listen,
    close,
    users: () => (server.listening ? state.nicks() : []),
    address: () => {
      const address = server.address();
      return address === null || typeof address === 'string' ? null : address;
    },
  };
}
