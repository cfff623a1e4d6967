import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { catchError, concatMap, defer, filter, ignoreElements, map, merge, of, Subject, type Subscription, timer } from 'rxjs';
import type { Bus } from './chat/bus';
import { memoryBus } from './bus/memory';
import { type RedisBus, redisBus } from './bus/redis';
import { chat } from './chat/chat';
import type { ChatEvent, ModerationLoaded } from './chat/events';
import type { Connection } from './chat/connection';
import type { ModerationKeeper, Seat } from './chat/loop';
import { moderationAction, type ModerationData, type SavedModerationEvent } from './chat/moderation';
import { ChatState } from './chat/state';
import { type ChatView, emptyView } from './chat/view';
import { statsText } from './edge/connection-stats';
import { entrance } from './edge/entrance';
import { LOGIN_BATCH_MS, localFanout } from './edge/fanout';
import { InputCounter } from './edge/input-counter';
import { listeners, TlsFilesError } from './edge/listeners';
import { webDoor } from './edge/web/door';
import { boundAddress, closeScrapes, listenForScrapes } from './edge/metrics';
import { type HostKey, loadHostKey, SshHostKeyError, type SshSettings } from './edge/ssh/host-key';
import { type SshListener, sshListener } from './edge/ssh/listener';
import { peerName } from './edge/door';
import { errorText } from './error-text';
import { serverOptions } from './option-rules';
import type { ChatServerOptions } from './server-options';
import { fileStore } from './store/file';
import { redisStore } from './store/redis';
import { type Registry, registry } from './store/registry';
import { boundGrants, grantBindings } from './store/grants';
import { memoryStore } from './store/memory';
import type { Store } from './store/store';
import { guessLimits, NO_PASSWORD_FIGURES } from './store/throttle';

export type { ChatEvent, UserId } from './chat/events';
export { MAX_REFUSALS_CLOSING } from './edge/entrance';
export type { ServerEvent } from './server-event';
export { DEFAULT_WEB_SETTINGS, type WebSettings } from './edge/web/door';
export { type ChatServerOptions, DEFAULT_PORT, DEFAULT_SERVER_OPTIONS, KEEPALIVE_IDLE_MS, MAX_CLIENTS, MAX_KEEPALIVE_IDLE_MS, SHUTDOWN_GRACE_MS } from './server-options';

/** How often expired accounts are looked for and dropped (once at start too); between two
 * looks an expired one already counts as not registered. */
export const ACCOUNT_EXPIRY_SWEEP_MS = 60 * 60_000;

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
  /** The browser door's HTTP and HTTPS addresses, each null when it does not listen. */
  webAddress(): AddressInfo | null;
  webTlsAddress(): AddressInfo | null;
  /** Reads the TLS certificate and key again, for new connections on every TLS door (TLS, HTTPS);
   * rejects with a TlsFilesError (code CHAT_TLS_FILES) and keeps the pair in use when they cannot
   * be read or used. */
  reloadTls(): Promise<void>;
  /** The SSH listener's address, or null when there is none, before listen() resolves and after close(). */
  sshAddress(): AddressInfo | null;
  /** Reads the SSH host key file again, for new connections; rejects with an SshHostKeyError (code
   * CHAT_SSH_HOST_KEY) and keeps the key in use when there is no file or it cannot be used. */
  reloadSshHostKey(): Promise<HostKey>;
  /** The names of the users logged in now, in the order they logged in. */
  users(): string[];
  /** Stops accepting, tells every user, and resolves once every socket is closed. */
  close(): Promise<void>;
}

/** Creates a chat server from options, each defaulting to DEFAULT_SERVER_OPTIONS. */
export function createChatServer(overrides: Partial<ChatServerOptions> = {}): ChatServer {
  const options = serverOptions(overrides); // throws a TypeError naming a bad option
  const report = options.onEvent;
  const fanout = localFanout(options.maxSendQueueBytes, LOGIN_BATCH_MS, options.shutdownGraceMs);
  const connections = new Subject<Connection>();
  const startedAt = Date.now(); // uptime counts from here, as before the chat made its state
  let view: ChatView = emptyView(startedAt); // the chat's, once it runs: the state is made and used inside its subscription alone
  const nodeId = randomBytes(4).toString('hex'); // per process start: a restarted node is a new one
  let cluster: RedisBus | undefined;
  let bus: Bus = memoryBus();
  const input = new InputCounter();
  let nextId = 1;
  let subscription: Subscription | undefined;
  let scrapes: Server | undefined;
  let store: Store | undefined;
  let accounts: Registry | undefined;

  // Every door's connections come in here: the listeners' below, and a door beside them calls doors.arrived and doors.enter.
  const doors = entrance(options, {
    fanout,
    newId: () => (cluster === undefined ? String(nextId++) : `${nodeId}:${nextId++}`),
    join: (connection) => connections.next(connection),
    report,
  });

  const newState = () => new ChatState(options.historyLines, startedAt, options.historyBytes);

  const figures = () =>
    doors.tally.figures({
      sockets: doors.sockets(), view, input, attached: fanout.size, handshakes: server.handshakes + (ssh?.handshakes ?? 0), linesWritten: fanout.linesWritten, now: Date.now(), cluster: cluster?.health(),
      passwords: accounts?.passwordFigures() ?? NO_PASSWORD_FIGURES,
    });

  const server = listeners(
    { host: options.host, port: options.port, tls: options.tls, handshakeTimeoutMs: Math.min(options.handshakeTimeoutMs, options.loginTimeoutMs) },
    {
      arrived: doors.arrived,
      accept: doors.accept,
      handshakeFailed: doors.handshakeFailed,
      error: (error) => report({ kind: 'error', error }),
    },
  );

  const web = options.web === undefined ? undefined : webDoor(
    { host: options.host, web: options.web, maxLineBytes: options.maxLineBytes, requestTimeoutMs: Math.min(options.handshakeTimeoutMs, options.loginTimeoutMs) },
    { arrived: doors.arrived, enter: (connection) => doors.enter(connection), error: (error) => report({ kind: 'error', error }) },
  );
  /** True while some door listens. */
  const listening = () => server.listening || web?.listening === true || ssh?.listening === true;

  /** Reads the TLS files again for each door that serves TLS. */
  const reloadTls = async (): Promise<void> => {
    const tlsDoors = [options.tls === undefined ? undefined : server, options.web?.tls === undefined ? undefined : web].filter((door) => door !== undefined);
    if (tlsDoors.length === 0) throw new TlsFilesError('chatd serves no TLS');
    await Promise.all(tlsDoors.map((door) => door.reloadTls()));
  };

  let ssh: SshListener | undefined;
  let sshKey: HostKey | undefined;

  /** The SSH door, its host key loaded (made in the data folder on first start) and its fingerprint reported. */
  const listenSsh = async (settings: SshSettings) => {
    const hostKey = (sshKey = await loadHostKey(settings, options.dataDir, options.redis !== undefined));
    report({ kind: 'ssh-host-key', fingerprint: hostKey.fingerprint, file: hostKey.file, created: hostKey.created });
    const handshakeTimeoutMs = Math.min(options.handshakeTimeoutMs, options.loginTimeoutMs);
    ssh = sshListener({ host: options.host, port: settings.port, hostKey: hostKey.key, handshakeTimeoutMs, maxLineBytes: options.maxLineBytes }, {
      arrived: doors.arrived,
      enter: (connection) => doors.enter(connection),
      handshakeFailed: (raw, error) => {
        doors.tally.handshakeFailed();
        report({ kind: 'ssh-failed', from: peerName(raw), reason: error === null ? 'closed' : errorText(error) });
      },
      refused: (from, request) => report({ kind: 'ssh-refused', from, request }),
      error: (error) => report({ kind: 'error', error }),
    });
    await ssh.listen();
  };

  const reloadSshHostKey = async (): Promise<HostKey> => {
    const file = sshKey?.file;
    if (ssh === undefined || file === undefined) throw new SshHostKeyError('chatd has no SSH host key file to reload');
    const hostKey = await loadHostKey({ port: 0, hostKeyFile: file }, undefined, false);
    ssh.useHostKey(hostKey.key);
    sshKey = hostKey;
    return hostKey;
  };

  const logEvent = (event: ChatEvent) => {
    if (event.type === 'joined' || event.type === 'resumed') report({ kind: 'login', id: event.user, nick: event.nick });
    else if (event.type === 'renamed') report({ kind: 'rename', id: event.user, from: event.from, nick: event.nick });
    else if (event.type === 'left') report({ kind: 'logout', id: event.user, nick: event.nick });
    else if ((event.type === 'said' || event.type === 'acted') && options.logChat) report({ kind: event.type, id: event.user, room: event.room, text: event.text });
    const action = moderationAction(event);
    if (action !== undefined) report({ kind: 'moderation', action });
  };

  /** The store as the chat's driver of moderation changes: a change in, whether it was kept out; why not is logged. */
  const keeper = (kept: Store): ModerationKeeper => ({
    // A store that throws at once fails this change alone, as one that rejects does.
    keep: (change) => defer(() => kept.change(change)).pipe(
      map(() => 'kept' as const),
      catchError((err: unknown) => {
        report({ kind: 'error', error: err instanceof Error ? err : new Error(String(err)) });
        return of('failed' as const);
      }),
    ),
  });

  /** The event that loads what the store keeps of moderation, the configured operators with it. */
  const moderationLoaded = ({ ops, opAccounts, bans, motd }: ModerationData): ModerationLoaded =>
    ({ type: 'moderation-loaded', fixedOps: options.ops, ops, opAccounts, bans, motd, at: Date.now() });

  const start = (seat: Omit<Seat, 'bus' | 'newState' | 'viewed' | 'accounts'>, accounts: Registry, kept: Store) => {
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
    const chat$ = chat(connections, { ...seat, accounts, newState, viewed: (made) => { view = made; }, bus, applied: logEvent, accountsReread$, store: keeper(kept) }, options);
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
    await keepBindings(kept, grantBindings(data, moderation, Date.now()));
    const limits = guessLimits(options.freePasswordChecks, options.maxPasswordWaitMs, options.loginTimeoutMs);
    accounts = registry(kept, data, {
      limits,
      checksAtOnce: options.passwordChecksAtOnce,
      maxRegistrationsPerHour: options.maxRegistrationsPerHour,
      accountExpiryMs: options.accountExpiryMs,
      neverExpires: (name) => view.isOpName(name),
      report: (change) => report({ kind: 'account', change }),
    });
    const stats = () => statsText(figures()).trimEnd().split('\n');
    start({ tally: input, stats, loaded: moderationLoaded(moderation) }, accounts, kept); // first: a cluster's node takes no one in before it has the cluster's state
    try {
      await cluster?.ready;
      // The endpoint before the chat: once the chat listens, it serves at once.
      const metrics = options.metricsListen;
      if (metrics !== undefined) scrapes = await listenForScrapes(metrics, { figures, accepting: () => listening() && !doors.shuttingDown });
      await server.listen(); // rejects with the bind error (EADDRINUSE, EACCES) or unusable TLS files
      await web?.listen().catch(async (err: unknown) => {
        await server.close();
        throw err;
      });
      if (options.ssh !== undefined) await listenSsh(options.ssh);
    } catch (err) {
      await Promise.all([server.close(), web?.listening === true ? web.close() : undefined]);
      subscription?.unsubscribe();
      await cluster?.close();
      await kept.close();
      if (scrapes !== undefined) await closeScrapes(scrapes); // a half-started server would hold its port
      scrapes = undefined;
      throw err;
    }
    const address = server.plainAddress() ?? server.tlsAddress() ?? web?.httpAddress() ?? web?.httpsAddress() ?? ssh?.address() ?? null;
    if (address === null) throw new Error('chatd listens on TCP only');
    return address;
  };

  const close = async (): Promise<void> => {
    if (!listening()) return;
    const serverClosed = Promise.all([server.close(), web?.close(), ssh?.close()]); // stop accepting
    const socketsClosed = doors.shutDown();
    // On a cluster's bus the node says first that its users go with it: the other nodes see each
    // leave once, and the rooms they empty keep their history for when the nodes come back.
    cluster?.leave();
    // The room goes quiet first: no leave lines after the notice. Each session's departure is
    // still published: alone, the in-memory bus has no one else to tell.
    subscription?.unsubscribe();
    connections.complete();
    fanout.flush(); // what the room said before it went quiet comes before the notice
    doors.farewellAll();
    await Promise.all([serverClosed, socketsClosed, cluster?.close()]); // the departures written first
    await store?.close(); // a ban or a motd set just before the end is kept
    if (scrapes !== undefined) await closeScrapes(scrapes); // last: /healthz says 503 while the users go
    scrapes = undefined;
  };


  return {
    listen,
    close,
    users: () => (listening() ? view.nicks() : []),
    address: () => server.plainAddress(),
    tlsAddress: () => server.tlsAddress(),
    reloadTls,
    webAddress: () => web?.httpAddress() ?? null,
    webTlsAddress: () => web?.httpsAddress() ?? null,
    sshAddress: () => ssh?.address() ?? null,
    reloadSshHostKey,
    metricsAddress: () => (scrapes === undefined ? null : boundAddress(scrapes)),
  };
}
