import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { type AddressInfo, Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { concatMap, filter, ignoreElements, merge, Subject, type Subscription, timer } from 'rxjs';
import type { Bus } from './chat/bus';
import { memoryBus } from './bus/memory';
import { type RedisBus, redisBus } from './bus/redis';
import { chat } from './chat/chat';
import { type ChatEvent, type ModerationLoaded, nodeOf, type UserId } from './chat/events';
import type { Connection } from './chat/outgoing';
import { DEFAULT_SESSION_OPTIONS, type Seat, type SessionOptions } from './chat/session';
import { isSavedModeration, type ModerationAction, moderationAction, type ModerationData, type SavedModerationEvent } from './chat/moderation';
import { ChatState, HISTORY_BYTES, HISTORY_LINES } from './chat/state';
import { InputTally } from './chat/tally';
import { besidePrompt, CONNECTING_TOO_FAST, NOT_SAVED, SERVER_FULL, SHUTTING_DOWN, tooManyConnections } from './chat/texts';
import { Admission, type AdmissionLimits, type AdmissionRefusal, CONNECT_BURST, EXEMPT_ADDRESSES, MAX_CONNECTIONS_PER_ADDRESS, MAX_CONNECTS_PER_SECOND } from './edge/admission';
import { FAREWELL_GRACE_MS, farewell } from './edge/farewell';
import { LOGIN_BATCH_MS, localFanout, MAX_SEND_QUEUE_BYTES, SendQueueFullError } from './edge/fanout';
import { ConnectionTally, type DisconnectReason, disconnectReason, type RefusalReason, statsText } from './edge/figures';
import { socketLines } from './edge/lines';
import { HANDSHAKE_TIMEOUT_MS, listeners, type TlsSettings } from './edge/listeners';
import { boundAddress, closeScrapes, listenForScrapes, type MetricsAddress } from './edge/metrics';
import { fileStore } from './store/file';
import { redisStore } from './store/redis';
import { PASSWORD_CHECKS_AT_ONCE } from './store/check-queue';
import { ACCOUNT_EXPIRY_DAYS, type AccountChange, DAY_MS, MAX_REGISTRATIONS_PER_HOUR, type Registry, registry } from './store/registry';
import { boundGrants, grantBindings, memoryStore, type Store } from './store/store';
import { FREE_WRONG_CHECKS, guessLimits, MAX_CHECK_WAIT_MS, NO_PASSWORD_FIGURES } from './store/throttle';

export type { ChatEvent, UserId } from './chat/events';

export const DEFAULT_PORT = 6677;
/** Default for the connections served at once; one more is told the server is full. */
export const MAX_CLIENTS = 10_000;
/** Default idle time before TCP keepalive probes look for a vanished peer. */
export const KEEPALIVE_IDLE_MS = 60_000;
/** The longest keepalive idle time Linux takes (TCP_KEEPIDLE, 32767 s); Node drops a longer one silently. */
export const MAX_KEEPALIVE_IDLE_MS = 32_767_000;
/** Default time a connection the server closes (a shutdown, a login timeout, `/quit`, a full
 * server) waits for its peer to read the last line and close before it is cut off. */
export const SHUTDOWN_GRACE_MS = FAREWELL_GRACE_MS;
/** The most refused connections told why and left to close at their peer's pace at once; past
 * it a refused connection is closed without a word, so refusals cannot hold sockets unbounded. */
export const MAX_REFUSALS_CLOSING = 1_000;
/** How often expired accounts are looked for and dropped (once at start too); between two
 * looks an expired one already counts as not registered. */
export const ACCOUNT_EXPIRY_SWEEP_MS = 60 * 60_000;

/** What the server reports as it runs, for a log. */
export type ServerEvent =
  | { readonly kind: 'connect'; readonly id: UserId; readonly from: string; readonly tls: boolean }
  | { readonly kind: 'handshake-failed'; readonly from: string; readonly reason: string }
  | { readonly kind: 'login'; readonly id: UserId; readonly nick: string }
  | { readonly kind: 'rename'; readonly id: UserId; readonly from: string; readonly nick: string }
  | { readonly kind: 'logout'; readonly id: UserId; readonly nick: string }
  | { readonly kind: 'said' | 'acted'; readonly id: UserId; readonly room: string; readonly text: string }
  | { readonly kind: 'node'; readonly node: string }
  | { readonly kind: 'disconnect'; readonly id: UserId; readonly reason: DisconnectReason; readonly error: string | undefined }
  | { readonly kind: RefusalReason; readonly from: string }
  | { readonly kind: 'moderation'; readonly action: ModerationAction }
  | { readonly kind: 'account'; readonly change: AccountChange }
  | { readonly kind: 'bus'; readonly message: string }
  | { readonly kind: 'error'; readonly error: Error };

export interface ChatServerOptions extends SessionOptions, Omit<AdmissionLimits, 'maxClients'> {
  /** Chat and `/me` lines a room keeps for those who join it; 0 keeps none. */
  readonly historyLines: number;
  /** Bytes of history all rooms keep together; past them the least recently used rooms' oldest lines go. */
  readonly historyBytes: number;
  /** Interface to listen on; undefined listens on all of them. */
  readonly host: string | undefined;
  /** The plain port, or 'off' to serve TLS only. */
  readonly port: number | 'off';
  /** A TLS listener beside the plain one, serving the same chat; undefined for none. */
  readonly tls: TlsSettings | undefined;
  /** Connections open at once, TLS handshakes included; one more is refused. */
  readonly maxClients: number;
  /** How long a TLS handshake may take; the login timeout bounds it too. */
  readonly handshakeTimeoutMs: number;
  readonly maxSendQueueBytes: number;
  readonly keepAliveIdleMs: number;
  readonly shutdownGraceMs: number;
  /** Where to serve `/metrics`, `/stats` and `/healthz` over HTTP; undefined serves none. */
  readonly metricsListen: MetricsAddress | undefined;
  /** Reports what users say (`said` and `acted` events, with the text); off, no chat text is reported. */
  readonly logChat: boolean;
  /** Where registered names, operators, bans and the message of the day are kept, without `redis`;
   * undefined keeps them in memory, for this server's life. With `redis` they are kept in Redis. */
  readonly dataDir: string | undefined;
  /** Registered names that are operators once they log in with their password; `/deop` cannot change them. */
  readonly ops: readonly string[];
  /** The longest a password check waits for its turn (see GuessThrottle); never more than half the login timeout. */
  readonly maxPasswordWaitMs: number;
  /** scrypt hashes computed at once, for checks and new passwords alike. */
  readonly passwordChecksAtOnce: number;
  /** Password checks from one address (or of one name) at once or in a short while before the next are spaced out. */
  readonly freePasswordChecks: number;
  /** Names one address (an IPv6 /64) may register per hour. */
  readonly maxRegistrationsPerHour: number;
  /** How long a registered name that nobody has logged into since its registration is kept. */
  readonly accountExpiryMs: number;
  readonly onEvent: (event: ServerEvent) => void;
  /** Redis to run the bus on and keep the data in (`redis://host:port` or a unix socket's path),
   * making this node one of a cluster; undefined serves alone. */
  readonly redis: string | undefined;
  /** Put before every Redis key, so that several clusters can share one Redis. */
  readonly redisPrefix: string;
}

export const DEFAULT_SERVER_OPTIONS: ChatServerOptions = {
  ...DEFAULT_SESSION_OPTIONS,
  historyLines: HISTORY_LINES,
  historyBytes: HISTORY_BYTES,
  host: undefined,
  port: DEFAULT_PORT,
  tls: undefined,
  maxClients: MAX_CLIENTS,
  maxConnectionsPerAddress: MAX_CONNECTIONS_PER_ADDRESS,
  maxConnectsPerSecond: MAX_CONNECTS_PER_SECOND,
  connectBurst: CONNECT_BURST,
  exemptAddresses: EXEMPT_ADDRESSES,
  handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
  maxSendQueueBytes: MAX_SEND_QUEUE_BYTES,
  keepAliveIdleMs: KEEPALIVE_IDLE_MS,
  shutdownGraceMs: SHUTDOWN_GRACE_MS,
  metricsListen: undefined,
  logChat: false,
  dataDir: undefined,
  maxPasswordWaitMs: MAX_CHECK_WAIT_MS,
  passwordChecksAtOnce: PASSWORD_CHECKS_AT_ONCE,
  freePasswordChecks: FREE_WRONG_CHECKS,
  maxRegistrationsPerHour: MAX_REGISTRATIONS_PER_HOUR,
  accountExpiryMs: ACCOUNT_EXPIRY_DAYS * DAY_MS,
  ops: [],
  onEvent: () => {},
  redis: undefined,
  redisPrefix: 'chatd:',
};

/** A chat server: listen once, then close once. */
export interface ChatServer {
  /** Loads the data, then resolves with the bound address (the TLS one when the plain port is
   * off) once listening; rejects if the data is corrupt or unwritable (a StoreError), a port
   * cannot be bound or the TLS files cannot be used. */
  listen(): Promise<AddressInfo>;
  /** The plain listener's address, or null when it is off, before listen() resolves and after close(). */
  address(): AddressInfo | null;
  /** The metrics endpoint's bound address, or null when it is not listening. */
  metricsAddress(): AddressInfo | null;
  /** The TLS listener's address, or null when there is none, before listen() resolves and after close(). */
  tlsAddress(): AddressInfo | null;
  /** Reads the TLS certificate and key again, for new connections; rejects with a TlsFilesError
   * (code CHAT_TLS_FILES) and keeps the pair in use when they cannot be read or used. */
  reloadTls(): Promise<void>;
  /** The names of the users logged in now, in the order they logged in. */
  users(): string[];
  /** Stops accepting, tells every user, and resolves once every socket is closed. */
  close(): Promise<void>;
}

/** The peer's address; an IPv4 peer on a dual-stack socket shows as plain IPv4. */
const peerAddress = (socket: Socket): string => (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.)/, '');

/** The peer as a log shows it. */
function peerName(socket: Socket): string {
  const address = peerAddress(socket);
  return address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`;
}

const errorOf = (err: Error | null): string | undefined => {
  if (err === null) return undefined;
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
  const sockets = new Map<Socket, UserId | undefined>(); // each with its user's id, none when refused
  const fanout = localFanout(options.maxSendQueueBytes, LOGIN_BATCH_MS, options.shutdownGraceMs);
  const connections = new Subject<Connection>();
  const state = new ChatState(options.historyLines, Date.now(), options.historyBytes);
  const nodeId = randomBytes(4).toString('hex'); // per process start: a restarted node is a new one
  let cluster: RedisBus | undefined;
  let bus: Bus = memoryBus();
  const input = new InputTally();
  const tally = new ConnectionTally();
  let nextId = 1;
  let subscription: Subscription | undefined;
  let shuttingDown = false;
  let scrapes: Server | undefined;
  let store: Store | undefined;
  let accounts: Registry | undefined;

  /** Every socket's bookkeeping at its close, `this` being the socket: one function for all
   * sockets, where a closure for each would be held for each user's whole stay. */
  function closed(this: Socket): void {
    const id = sockets.get(this);
    sockets.delete(this);
    if (id === undefined) return tally.closed(this);
    const reason = disconnectReason(this.errored, fanout.detach(id), shuttingDown);
    tally.closed(this, reason);
    report({ kind: 'disconnect', id, reason, error: errorOf(this.errored) });
  }

  const admission = new Admission(options, () => performance.now());
  const refusalTexts: Readonly<Record<AdmissionRefusal, string>> = {
    full: SERVER_FULL, per_address: tooManyConnections(options.maxConnectionsPerAddress), connect_rate: CONNECTING_TOO_FAST,
  };
  let refusalsClosing = 0;

  /** An admitted connection's close, `this` being its TCP socket: its place is free again. Its
   * peer was read at its arrival, and a socket keeps what it read once closed. */
  function released(this: Socket): void {
    admission.release(peerAddress(this));
  }

  /** A plain socket's one 'close' listener: a listener more per socket is memory per idle user. */
  function plainClosed(this: Socket): void {
    released.call(this);
    closed.call(this);
  }

  /** A refused connection's close: one fewer held open while its peer reads why. */
  function refusalClosed(): void {
    refusalsClosing -= 1;
  }

  /** A TCP connection on either door, counted from now on (a TLS handshake included), or refused. */
  const arrived = (raw: Socket, secure: boolean): boolean => {
    raw.on('error', ignoreError);
    if (raw.remoteAddress === undefined) { // gone before we got to it
      raw.destroy();
      return false;
    }
    const refused = admission.admit(peerAddress(raw));
    if (refused === undefined) {
      if (secure) raw.once('close', released); // a handshake may fail: its TLS socket never reaches accept
      return true;
    }
    tally.refusedOne(refused.reason);
    if (refused.first) report({ kind: refused.reason, from: peerName(raw) }); // a flood's refusals are counted, not each logged
    // A TLS client could not read a line before its handshake, and a handshake is what refusing spares us.
    if (secure || refusalsClosing >= MAX_REFUSALS_CLOSING) {
      raw.destroy();
      return false;
    }
    refusalsClosing += 1;
    raw.once('close', refusalClosed);
    farewell(raw, options.shutdownGraceMs, refusalTexts[refused.reason]);
    return false;
  };

  /** Writes a telnet answer at once, past the chat's batches (a client waiting on one shows
   * nothing until it comes), unless the socket is gone or as far behind as the fanout allows. */
  const answerTelnet = (socket: Readable, command: Buffer) => {
    if (!(socket instanceof Socket) || !socket.writable) return;
    if (socket.writableLength > options.maxSendQueueBytes) socket.destroy(new SendQueueFullError(options.maxSendQueueBytes));
    else socket.write(command);
  };

  const accept = (socket: Socket, secure: boolean) => {
    // Its 'error' listener is in already: added at its arrival (plain), or by the listeners (TLS).
    socket.on('close', secure ? closed : plainClosed);
    sockets.set(socket, undefined);
    const from = peerAddress(socket);
    const id = cluster === undefined ? String(nextId++) : `${nodeId}:${nextId++}`;
    sockets.set(socket, id);
    socket.setNoDelay(true); // writes are coalesced per event-loop turn; Nagle would add latency
    socket.setKeepAlive(true, options.keepAliveIdleMs);
    tally.acceptedOne();
    fanout.attach(id, socket);
    report({ kind: 'connect', id, from: peerName(socket), tls: secure });
    const input$ = socketLines(socket, options.maxLineBytes, options.maxLoginBytes, answerTelnet);
    connections.next({ id, input$, secure, from });
  };

  const figures = () =>
    tally.figures({
      sockets: sockets.keys(), state, input, attached: fanout.size, handshakes: server.handshakes, linesWritten: fanout.linesWritten, now: Date.now(), cluster: cluster?.health(),
      passwords: accounts?.passwordFigures() ?? NO_PASSWORD_FIGURES,
    });

  const server = listeners(
    { host: options.host, port: options.port, tls: options.tls, handshakeTimeoutMs: Math.min(options.handshakeTimeoutMs, options.loginTimeoutMs) },
    {
      arrived,
      accept,
      handshakeFailed: (raw, error) => {
        tally.handshakeFailed();
        report({ kind: 'handshake-failed', from: peerName(raw), reason: errorOf(error) ?? 'closed' });
      },
      error: (error) => report({ kind: 'error', error }),
    },
  );

  const logEvent = (event: ChatEvent) => {
    if (event.type === 'joined' || event.type === 'resumed') report({ kind: 'login', id: event.user, nick: event.nick });
    else if (event.type === 'renamed') report({ kind: 'rename', id: event.user, from: event.from, nick: event.nick });
    else if (event.type === 'left') report({ kind: 'logout', id: event.user, nick: event.nick });
    else if ((event.type === 'said' || event.type === 'acted') && options.logChat) report({ kind: event.type, id: event.user, room: event.room, text: event.text });
    const action = moderationAction(event);
    if (action === undefined) return;
    report({ kind: 'moderation', action });
    if (isSavedModeration(event) && madeHere(event)) persist(event);
  };

  /** True when this node's user made `event`: of a cluster's nodes, that one alone keeps it. */
  const madeHere = (event: SavedModerationEvent): boolean => cluster === undefined || nodeOf(event.user) === nodeId;

  /** Keeps a moderation change, as every node has applied it or will; its operator learns if it could not be. */
  const persist = (event: SavedModerationEvent) => {
    // A store that throws at once fails this change alone, as one that rejects does.
    Promise.resolve().then(() => store?.change(event)).catch((err: unknown) => {
      report({ kind: 'error', error: err instanceof Error ? err : new Error(String(err)) });
      fanout.deliver({ kind: 'send', to: event.user, text: NOT_SAVED });
    });
  };

  /** The event that loads what the store keeps of moderation, the configured operators with it. */
  const moderationLoaded = ({ ops, opAccounts, bans, motd }: ModerationData): ModerationLoaded =>
    ({ type: 'moderation-loaded', fixedOps: options.ops, ops, opAccounts, bans, motd, at: Date.now() });

  const start = (seat: Omit<Seat, 'bus' | 'state' | 'accounts'>, accounts: Registry, kept: Store) => {
    if (options.redis !== undefined) {
      const log = (message: string) => report({ kind: 'bus', message });
      // Each recovery loads moderation again: changes made on other nodes meanwhile are not all on the stream after the snapshot.
      const reload = async () => moderationLoaded(boundGrants(await kept.load()));
      bus = cluster = redisBus({ url: options.redis, prefix: options.redisPrefix, nodeId, limits: { maxLineBytes: options.maxLineBytes }, reload, log });
      report({ kind: 'node', node: nodeId }); // the log's connection ids start with it; not the URL, which may hold a password
    }
    // Names registered or dropped on another node: `registered` answers at once, from what the registry knows.
    const accountsReread$ = kept.accountsChanged$.pipe(
      concatMap(async (changed) => {
        await accounts.refresh(changed);
        return changed;
      }),
      filter((changed) => changed === 'all'),
    );
    const expired$ = timer(0, ACCOUNT_EXPIRY_SWEEP_MS).pipe(concatMap(() => accounts.expire()), ignoreElements());
    const chat$ = chat(connections, { ...seat, accounts, state, bus, applied: logEvent, accountsReread$ }, options);
    subscription = merge(chat$, expired$).subscribe((out) => fanout.deliver(out));
  };

  /** Saves the grants bound at start; one that cannot be saved holds for this run, and is bound again at the next. */
  const keepBindings = async (kept: Store, changes: readonly SavedModerationEvent[]) => {
    for (const change of changes) {
      await kept.change(change).catch((err: unknown) => report({ kind: 'error', error: err instanceof Error ? err : new Error(String(err)) }));
    }
  };

  const openStore = (): Store => {
    if (options.redis !== undefined) return redisStore({ url: options.redis, prefix: options.redisPrefix });
    return options.dataDir === undefined ? memoryStore() : fileStore(options.dataDir);
  };

  const listen = async (): Promise<AddressInfo> => {
    const kept = (store = openStore());
    const data = await kept.load().catch(async (err: unknown) => {
      await kept.close(); // a Redis store would go on trying to connect
      throw err;
    });
    const moderation = boundGrants(data);
    state.apply(moderationLoaded(moderation));
    await keepBindings(kept, grantBindings(data, moderation, Date.now()));
    const limits = guessLimits(options.freePasswordChecks, options.maxPasswordWaitMs, options.loginTimeoutMs);
    accounts = registry(kept, data, {
      limits,
      checksAtOnce: options.passwordChecksAtOnce,
      maxRegistrationsPerHour: options.maxRegistrationsPerHour,
      accountExpiryMs: options.accountExpiryMs,
      neverExpires: (name) => state.moderation.isOpName(name),
      report: (change) => report({ kind: 'account', change }),
    });
    const stats = () => statsText(figures()).trimEnd().split('\n');
    start({ tally: input, stats }, accounts, kept); // first: a cluster's node takes no one in before it has the cluster's state
    try {
      await cluster?.ready;
      // The endpoint before the chat: once the chat listens, it serves at once.
      const metrics = options.metricsListen;
      if (metrics !== undefined) scrapes = await listenForScrapes(metrics, { figures, accepting: () => server.listening && !shuttingDown });
      await server.listen(); // rejects with the bind error (EADDRINUSE, EACCES) or unusable TLS files
    } catch (err) {
      subscription?.unsubscribe();
      await cluster?.close();
      await kept.close();
      if (scrapes !== undefined) await closeScrapes(scrapes); // a half-started server would hold its port
      scrapes = undefined;
      throw err;
    }
    const address = server.plainAddress() ?? server.tlsAddress();
    if (address === null) throw new Error('chatd listens on TCP only');
    return address;
  };

  const close = async (): Promise<void> => {
    if (!server.listening) return;
    const serverClosed = server.close(); // stop accepting
    // The server's 'close' can come before the last socket's 'close' listeners have run.
    const socketsClosed = [...sockets.keys()].map((socket) => new Promise((resolve) => socket.once('close', resolve)));
    shuttingDown = true;
    // On a cluster's bus the node says first that its users go with it: the other nodes see each
    // leave once, and the rooms they empty keep their history for when the nodes come back.
    cluster?.leave();
    // The room goes quiet first: no leave lines after the notice. Each session's departure is
    // still published: alone, the in-memory bus has no one else to tell.
    subscription?.unsubscribe();
    connections.complete();
    fanout.flush(); // what the room said before it went quiet comes before the notice
    // The notice ends each socket's output, so no chat line can follow it; a socket already
    // closing (timed out, say) keeps its own farewell and deadline.
    for (const socket of sockets.keys()) farewell(socket, options.shutdownGraceMs, fanout.atPrompt(socket) ? besidePrompt(SHUTTING_DOWN) : SHUTTING_DOWN);
    await Promise.all([serverClosed, ...socketsClosed, cluster?.close()]); // the departures written first
    await store?.close(); // a ban or a motd set just before the end is kept
    if (scrapes !== undefined) await closeScrapes(scrapes); // last: /healthz says 503 while the users go
    scrapes = undefined;
  };


  return {
    listen,
    close,
    users: () => (server.listening ? state.nicks() : []),
    address: () => server.plainAddress(),
    tlsAddress: () => server.tlsAddress(),
    reloadTls: () => server.reloadTls(),
    metricsAddress: () => (scrapes === undefined ? null : boundAddress(scrapes)),
  };
}
