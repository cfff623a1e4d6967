import { REPLY_BYTES_PER_LINE } from '../chat/pace';
import { MAX_HISTORY_LINES } from '../chat/state';
import { type ChatServerOptions, DEFAULT_SERVER_OPTIONS, MAX_KEEPALIVE_IDLE_MS } from '../server-options';
import { DAY_MS } from '../store/registry';
import { DEFAULT_WEB_SETTINGS } from '../edge/web/door';
import { addresses, applySettings, count, given, listenAddress, type Mutable, names, oneOf, origins, positive, proxies, readFlags, seconds, type Setting, toggle, UsageError } from './flags';
import { DEFAULT_LOG_OPTIONS, FORMATS, LEVELS, type LogOptions } from './log';

/** Options as the flags give them, the TLS ones one by one until they are checked together. */
interface Draft extends Partial<Mutable<ChatServerOptions>> {
  tlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  sshPort?: number;
  sshHostKey?: string;
  webPort?: number;
  webTlsPort?: number;
  webOrigins?: string[];
  trustProxy?: string[];
}

/** Where the CLI keeps its data when not told; the library keeps it in memory. */
export const DEFAULT_DATA_DIR = './chatd-data';

const defaults = DEFAULT_SERVER_OPTIONS;

/** Every flag of the server and its variable: adding a flag is adding its entry here (a new library
 * option also needs its field and default in server-options.ts and its rule in option-rules.ts,
 * which the compiler asks for). `--help` is made from this table. */
const SETTINGS: readonly Setting<Draft>[] = [
  { flag: 'host', value: '<host>', env: 'CHATD_HOST', help: 'interface to listen on', fallback: 'all interfaces',
    apply: (v, o) => { o.host = given('host', v); } },
  { flag: 'port', value: '<port>', env: 'CHATD_PORT', help: 'TCP port; 0 picks a free one, off serves the other doors only', fallback: String(defaults.port),
    apply: (v, o) => { o.port = v === 'off' ? 'off' : count('port', v, 0, 65535); } },
  { flag: 'tls-port', value: '<port>', env: 'CHATD_TLS_PORT', help: 'TCP port of a TLS listener; needs --tls-cert and --tls-key', fallback: 'none',
    apply: (v, o) => { o.tlsPort = count('tls-port', v, 0, 65535); } },
  { flag: 'web-port', value: '<port>', env: 'CHATD_WEB_PORT', help: 'HTTP port of the browser door: the page at /, its WebSocket at /chat', fallback: 'none',
    apply: (v, o) => { o.webPort = count('web-port', v, 0, 65535); } },
  { flag: 'web-tls-port', value: '<port>', env: 'CHATD_WEB_TLS_PORT', help: 'HTTPS port of the browser door; needs --tls-cert and --tls-key', fallback: 'none',
    apply: (v, o) => { o.webTlsPort = count('web-tls-port', v, 0, 65535); } },
  { flag: 'web-origins', value: '<origins>', env: 'CHATD_WEB_ORIGINS', help: "origins besides the page's own whose pages may open the WebSocket (comma-separated)", fallback: 'none',
    apply: (v, o) => { o.webOrigins = origins('web-origins', v); } },
  { flag: 'trust-proxy', value: '<cidrs>', env: 'CHATD_TRUST_PROXY', help: 'reverse proxies (IPs, CIDR blocks) whose X-Forwarded-For and X-Forwarded-Proto the browser door believes', fallback: 'none',
    apply: (v, o) => { o.trustProxy = proxies('trust-proxy', v); } },
  { flag: 'tls-cert', value: '<file>', env: 'CHATD_TLS_CERT', help: 'PEM file of the TLS certificate (chain); SIGHUP reloads it', fallback: 'none',
    apply: (v, o) => { o.tlsCert = given('tls-cert', v); } },
  { flag: 'tls-key', value: '<file>', env: 'CHATD_TLS_KEY', help: 'PEM file of the TLS private key; SIGHUP reloads it', fallback: 'none',
    apply: (v, o) => { o.tlsKey = given('tls-key', v); } },
  { flag: 'ssh-port', value: '<port>', env: 'CHATD_SSH_PORT', help: 'TCP port of an SSH listener', fallback: 'none',
    apply: (v, o) => { o.sshPort = count('ssh-port', v, 0, 65535); } },
  { flag: 'ssh-host-key', value: '<file>', env: 'CHATD_SSH_HOST_KEY', help: 'SSH host key (OpenSSH or PEM); SIGHUP reloads it', fallback: 'made in --data-dir',
    apply: (v, o) => { o.sshHostKey = given('ssh-host-key', v); } },
  { flag: 'banner', value: '<text>', env: 'CHATD_BANNER', help: 'first line every connection sees', fallback: `"${defaults.banner}"`,
    apply: (v, o) => { o.banner = v; } },
  { flag: 'max-line-bytes', value: '<bytes>', env: 'CHATD_MAX_LINE_BYTES', help: 'longest line a user may send', fallback: String(defaults.maxLineBytes),
    apply: (v, o) => { o.maxLineBytes = count('max-line-bytes', v, 1); } },
  { flag: 'login-timeout', value: '<seconds>', env: 'CHATD_LOGIN_TIMEOUT', help: 'time to give a valid username', fallback: String(defaults.loginTimeoutMs / 1000),
    apply: (v, o) => { o.loginTimeoutMs = seconds('login-timeout', v); } },
  { flag: 'max-name-attempts', value: '<n>', env: 'CHATD_MAX_NAME_ATTEMPTS', help: 'refused usernames before a connection is closed', fallback: String(defaults.maxNameAttempts),
    apply: (v, o) => { o.maxNameAttempts = count('max-name-attempts', v, 1); } },
  { flag: 'max-login-bytes', value: '<bytes>', env: 'CHATD_MAX_LOGIN_BYTES', help: 'what a connection may send before logging in', fallback: String(defaults.maxLoginBytes),
    apply: (v, o) => { o.maxLoginBytes = count('max-login-bytes', v, 1); } },
  { flag: 'max-send-queue', value: '<bytes>', env: 'CHATD_MAX_SEND_QUEUE', help: 'unread output before a user is disconnected', fallback: String(defaults.maxSendQueueBytes),
    apply: (v, o) => { o.maxSendQueueBytes = count('max-send-queue', v, 1); } },
  { flag: 'rate', value: '<lines>', env: 'CHATD_RATE', help: 'lines per second a user may send', fallback: String(defaults.rateLimits.linesPerSecond),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), linesPerSecond: positive('rate', v) }; } },
  { flag: 'burst', value: '<lines>', env: 'CHATD_BURST', help: 'lines a user may send at once', fallback: String(defaults.rateLimits.burstLines),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), burstLines: count('burst', v, 1) }; } },
  { flag: 'max-queued-lines', value: '<lines>', env: 'CHATD_MAX_QUEUED_LINES', help: 'lines a user may have delayed before more are dropped', fallback: String(defaults.rateLimits.maxQueuedLines),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), maxQueuedLines: count('max-queued-lines', v, 0) }; } },
  { flag: 'reply-bytes-per-line', value: '<bytes>', env: 'CHATD_REPLY_BYTES_PER_LINE', help: "bytes of a command's reply that cost its user one more line of their rate", fallback: String(REPLY_BYTES_PER_LINE),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), replyBytesPerLine: count('reply-bytes-per-line', v, 1) }; } },
  { flag: 'max-clients', value: '<n>', env: 'CHATD_MAX_CLIENTS', help: 'connections open at once, TLS handshakes included', fallback: String(defaults.maxClients),
    apply: (v, o) => { o.maxClients = count('max-clients', v, 1); } },
  { flag: 'max-connections-per-address', value: '<n>', env: 'CHATD_MAX_CONNECTIONS_PER_ADDRESS', help: 'connections one address (IPv6: its /64) may hold at once', fallback: String(defaults.maxConnectionsPerAddress),
    apply: (v, o) => { o.maxConnectionsPerAddress = count('max-connections-per-address', v, 1); } },
  { flag: 'max-connects-per-second', value: '<n>', env: 'CHATD_MAX_CONNECTS_PER_SECOND', help: 'new connections per second per address, after its burst', fallback: String(defaults.maxConnectsPerSecond),
    apply: (v, o) => { o.maxConnectsPerSecond = positive('max-connects-per-second', v); } },
  { flag: 'connect-burst', value: '<n>', env: 'CHATD_CONNECT_BURST', help: 'new connections per address at once after a quiet while', fallback: String(defaults.connectBurst),
    apply: (v, o) => { o.connectBurst = count('connect-burst', v, 1); } },
  { flag: 'exempt-addresses', value: '<ips>', env: 'CHATD_EXEMPT_ADDRESSES', help: 'IPs the per-address limits leave alone (comma-separated, or none)', fallback: defaults.exemptAddresses.join(','),
    apply: (v, o) => { o.exemptAddresses = addresses('exempt-addresses', v); } },
  { flag: 'handshake-timeout', value: '<seconds>', env: 'CHATD_HANDSHAKE_TIMEOUT', help: 'time a TLS handshake may take (login timeout at most)', fallback: String(defaults.handshakeTimeoutMs / 1000),
    apply: (v, o) => { o.handshakeTimeoutMs = seconds('handshake-timeout', v); } },
  { flag: 'keepalive', value: '<seconds>', env: 'CHATD_KEEPALIVE', help: 'idle time before TCP keepalive probes', fallback: String(defaults.keepAliveIdleMs / 1000),
    apply: (v, o) => { o.keepAliveIdleMs = count('keepalive', v, 1, MAX_KEEPALIVE_IDLE_MS / 1000) * 1000; } },
  { flag: 'history', value: '<lines>', env: 'CHATD_HISTORY', help: 'chat lines a room replays to those who join it; 0 for none', fallback: String(defaults.historyLines),
    apply: (v, o) => { o.historyLines = count('history', v, 0, MAX_HISTORY_LINES); } },
  { flag: 'history-bytes', value: '<bytes>', env: 'CHATD_HISTORY_BYTES', help: 'bytes of history all rooms keep together; the least recently used rooms lose lines first', fallback: String(defaults.historyBytes),
    apply: (v, o) => { o.historyBytes = count('history-bytes', v, 0); } },
  { flag: 'data-dir', value: '<dir>', env: 'CHATD_DATA_DIR', help: 'folder of the data file (registered names, operators, bans, motd); unused with --redis', fallback: DEFAULT_DATA_DIR,
    apply: (v, o) => { o.dataDir = given('data-dir', v); } },
  { flag: 'max-registrations-per-hour', value: '<n>', env: 'CHATD_MAX_REGISTRATIONS_PER_HOUR', help: 'names one address (an IPv6 /64) may register per hour; 0 for none', fallback: String(defaults.maxRegistrationsPerHour),
    apply: (v, o) => { o.maxRegistrationsPerHour = count('max-registrations-per-hour', v, 0); } },
  { flag: 'account-expiry-days', value: '<days>', env: 'CHATD_ACCOUNT_EXPIRY_DAYS', help: 'days a registered name nobody has logged into since is kept', fallback: String(defaults.accountExpiryMs / DAY_MS),
    apply: (v, o) => { o.accountExpiryMs = positive('account-expiry-days', v) * DAY_MS; } },
  { flag: 'ops', value: '<names>', env: 'CHATD_OPS', help: 'registered names, comma-separated, that are operators once they give their password', fallback: 'none',
    apply: (v, o) => { o.ops = names('ops', v); } },
  { flag: 'max-password-wait', value: '<seconds>', env: 'CHATD_MAX_PASSWORD_WAIT', help: 'longest time a password check waits while guessing is slowed (at most half --login-timeout)',
    fallback: String(defaults.maxPasswordWaitMs / 1000), apply: (v, o) => { o.maxPasswordWaitMs = seconds('max-password-wait', v); } },
  { flag: 'free-password-checks', value: '<n>', env: 'CHATD_FREE_PASSWORD_CHECKS', help: 'wrong password checks from one address, or of one name, before the next are spaced out',
    fallback: String(defaults.freePasswordChecks), apply: (v, o) => { o.freePasswordChecks = count('free-password-checks', v, 1, 1000); } },
  { flag: 'password-checks', value: '<n>', env: 'CHATD_PASSWORD_CHECKS', help: 'password hashes computed at once (each takes a core about 50 ms)', fallback: String(defaults.passwordChecksAtOnce),
    apply: (v, o) => { o.passwordChecksAtOnce = count('password-checks', v, 1, 64); } },
  { flag: 'require-tls-for-passwords', env: 'CHATD_REQUIRE_TLS_FOR_PASSWORDS', help: 'refuse passwords over plain connections', fallback: 'off', toggle: true,
    apply: (v, o) => { o.requireTlsForPasswords = toggle('require-tls-for-passwords', v); } },
  { flag: 'redis', value: '<url>', env: 'CHATD_REDIS', help: 'Redis URL (redis://[:PASSWORD@]HOST:PORT, rediss:// for TLS) or unix socket path to run a cluster on, which keeps its data too', fallback: 'none: serve alone',
    apply: (v, o) => { o.redis = given('redis', v); } },
  { flag: 'redis-prefix', value: '<prefix>', env: 'CHATD_REDIS_PREFIX', help: "prefix of the cluster's Redis keys", fallback: defaults.redisPrefix,
    apply: (v, o) => { o.redisPrefix = given('redis-prefix', v); } },
  { flag: 'shutdown-grace', value: '<seconds>', env: 'CHATD_SHUTDOWN_GRACE', help: 'time a closing connection waits for its peer to read and close', fallback: String(defaults.shutdownGraceMs / 1000),
    apply: (v, o) => { o.shutdownGraceMs = seconds('shutdown-grace', v); } },
  { flag: 'metrics-listen', value: '<host:port>', env: 'CHATD_METRICS_LISTEN', help: 'where to serve /metrics, /stats and /healthz (a port alone: on loopback)', fallback: 'off',
    apply: (v, o) => { o.metricsListen = listenAddress('metrics-listen', v); } },
  { flag: 'log-chat', env: 'CHATD_LOG_CHAT', help: 'log what users say, /me lines too (debug level)', fallback: 'off', toggle: true,
    apply: (v, o) => { o.logChat = toggle('log-chat', v); } },
];

const LOG_SETTINGS: readonly Setting<Partial<Mutable<LogOptions>>>[] = [
  { flag: 'log-format', value: '<format>', env: 'CHATD_LOG_FORMAT', help: `${FORMATS.join(' or ')}: json is one object a line`, fallback: DEFAULT_LOG_OPTIONS.format,
    apply: (v, o) => { o.format = oneOf('log-format', v, FORMATS); } },
  { flag: 'log-level', value: '<level>', env: 'CHATD_LOG_LEVEL', help: `${LEVELS.join(', ')}: the least severe logged`, fallback: DEFAULT_LOG_OPTIONS.level,
    apply: (v, o) => { o.level = oneOf('log-level', v, LEVELS); } },
];

export const ALL_SETTINGS: readonly (Setting<Draft> | Setting<Partial<Mutable<LogOptions>>>)[] = [...SETTINGS, ...LOG_SETTINGS];

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly options: Partial<ChatServerOptions>; readonly log: LogOptions };

const SETTING_OF_FLAG = new Map(ALL_SETTINGS.map((setting) => [setting.flag, setting]));

/** Reads argv and the environment; throws UsageError on an unknown flag or a bad value. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const flags = readFlags(argv, SETTING_OF_FLAG);
  if (flags === 'help' || flags === 'version') return { kind: flags };
  const draft: Draft = {};
  const log: Partial<Mutable<LogOptions>> = {};
  applySettings(SETTINGS, flags, env, draft);
  applySettings(LOG_SETTINGS, flags, env, log);
  return { kind: 'serve', options: checkListeners(draft), log: { ...DEFAULT_LOG_OPTIONS, ...log } };
}

/** The TLS files serve whichever TLS port is given (--tls-port, --web-tls-port), which needs them;
 * no two listeners share a port; the SSH host key goes with its port; something must listen. */
function checkListeners({ tlsPort, tlsCert, tlsKey, webPort, webTlsPort, webOrigins, trustProxy, sshPort, sshHostKey, ...options }: Draft): Partial<ChatServerOptions> {
  const files = tlsCert !== undefined && tlsKey !== undefined ? { certFile: tlsCert, keyFile: tlsKey } : undefined;
  if ((tlsPort !== undefined || tlsCert !== undefined || tlsKey !== undefined) && webTlsPort === undefined && (tlsPort === undefined || files === undefined)) {
    throw new UsageError('--tls-port, --tls-cert and --tls-key go together');
  }
  if (webTlsPort !== undefined && files === undefined) throw new UsageError('--web-tls-port needs --tls-cert and --tls-key');
  const ports: [string, number | 'off' | undefined][] = [['port', options.port ?? defaults.port], ['tls-port', tlsPort], ['web-port', webPort], ['web-tls-port', webTlsPort], ['ssh-port', sshPort]];
  for (const [at, [flag, port]] of ports.entries()) {
    const clash = ports.slice(0, at).find(([, other]) => typeof port === 'number' && port !== 0 && other === port);
    if (clash !== undefined) throw new UsageError(`--${clash[0]} and --${flag} are the same port, ${port}: give each its own`);
  }
  if (tlsPort !== undefined && files !== undefined) options.tls = { port: tlsPort, ...files };
  if (webPort !== undefined || webTlsPort !== undefined) {
    const tls = webTlsPort === undefined || files === undefined ? undefined : { port: webTlsPort, ...files };
    options.web = { ...DEFAULT_WEB_SETTINGS, port: webPort, tls, origins: webOrigins ?? [], trustProxy: trustProxy ?? [] };
  }
  if (sshPort === undefined && sshHostKey !== undefined) throw new UsageError('--ssh-host-key needs --ssh-port');
  if (sshPort !== undefined && options.redis !== undefined && sshHostKey === undefined) throw new UsageError("--ssh-port with --redis needs --ssh-host-key: a cluster's nodes must show the same key");
  if (sshPort !== undefined) options.ssh = sshHostKey === undefined ? { port: sshPort } : { port: sshPort, hostKeyFile: sshHostKey };
  if (options.port === 'off' && options.tls === undefined && options.web === undefined && options.ssh === undefined) {
    throw new UsageError('--port off needs a TLS listener (--tls-port) or the browser door (--web-port, --web-tls-port) or SSH (--ssh-port)');
  }
  return options;
}
