import { DEFAULT_SESSION_OPTIONS, type SessionOptions } from './chat/session-options';
import { HISTORY_BYTES, HISTORY_LINES } from './chat/state';
import { type AdmissionLimits, CONNECT_BURST, EXEMPT_ADDRESSES, MAX_CONNECTIONS_PER_ADDRESS, MAX_CONNECTS_PER_SECOND } from './edge/admission';
import { FAREWELL_GRACE_MS } from './edge/farewell';
import { MAX_SEND_QUEUE_BYTES } from './edge/fanout';
import { HANDSHAKE_TIMEOUT_MS, type TlsSettings } from './edge/listeners';
import type { MetricsAddress } from './edge/metrics';
import type { SshSettings } from './edge/ssh/host-key';
import type { WebSettings } from './edge/web/door';
import type { ServerEvent } from './server-event';
import { PASSWORD_CHECKS_AT_ONCE } from './store/check-queue';
import { ACCOUNT_EXPIRY_DAYS, DAY_MS, MAX_REGISTRATIONS_PER_HOUR } from './store/registry';
import { FREE_WRONG_CHECKS, MAX_CHECK_WAIT_MS } from './store/throttle';

/** Default of the plain port. */
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
/** What createChatServer takes; every option has its default in DEFAULT_SERVER_OPTIONS (README lists them). */
export interface ChatServerOptions extends SessionOptions, Omit<AdmissionLimits, 'maxClients'> {
  /** Chat and `/me` lines a room keeps for those who join it; 0 keeps none. */
  readonly historyLines: number;
  /** Bytes of history all rooms keep together; past them the least recently used rooms' oldest lines go. */
  readonly historyBytes: number;
  /** Interface to listen on; undefined listens on all of them. */
  readonly host: string | undefined;
  /** The plain port, or 'off' to serve the other doors only. */
  readonly port: number | 'off';
  /** A TLS listener beside the plain one, serving the same chat; undefined for none. */
  readonly tls: TlsSettings | undefined;
  /** An SSH listener beside the others, serving the same chat; undefined for none. */
  readonly ssh: SshSettings | undefined;
  /** The browser door: the page and its WebSocket over HTTP, HTTPS or both; undefined for none. */
  readonly web: WebSettings | undefined;
  /** Connections open at once, TLS and SSH handshakes included; one more is refused. */
  readonly maxClients: number;
  /** How long a TLS handshake may take; the login timeout bounds it too. */
  readonly handshakeTimeoutMs: number;
  /** Unread output a connection may hold before it is disconnected. */
  readonly maxSendQueueBytes: number;
  /** Idle time before TCP keepalive probes look for a vanished peer; 0 keeps the system's. */
  readonly keepAliveIdleMs: number;
  /** Time a connection the server closes waits for its peer to read the last line and close. */
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
  /** Told what the server does, for a log; see ServerEvent. */
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
  ssh: undefined,
  web: undefined,
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

