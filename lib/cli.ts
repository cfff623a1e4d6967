import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AddressInfo, isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { accountsCommand } from './accounts-command';
import type { ModerationAction } from './chat/moderation';
import { nameProblem } from './chat/names';
import { REPLY_BYTES_PER_LINE } from './chat/pace';
import { MAX_HISTORY_LINES } from './chat/state';
import type { MetricsAddress } from './edge/metrics';
import { type ChatServer, type ChatServerOptions, createChatServer, DEFAULT_SERVER_OPTIONS, type ServerEvent } from './server';
import { type AccountChange, DAY_MS } from './store/registry';

/** A command-line mistake: usage goes to stderr and the exit code is 2. */
export class UsageError extends Error {
  readonly code = 'CHAT_USAGE';
}

interface Setting<T> {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly fallback: string;
  /** A flag that takes no value; its variable is 1, true, 0 or false. */
  readonly toggle?: true;
  readonly apply: (value: string, into: T) => void;
}

/** Options as the flags give them, the TLS ones one by one until they are checked together. */
interface Draft extends Partial<Mutable<ChatServerOptions>> {
  tlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
}

/** Where the CLI keeps its data when not told; the library keeps it in memory. */
export const DEFAULT_DATA_DIR = './chatd-data';

/** How much is logged, and how. */
export interface LogOptions {
  readonly format: LogFormat;
  readonly level: LogLevel;
}

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Every level, the most severe first: a level logs itself and those before it. */
const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
const FORMATS: readonly LogFormat[] = ['text', 'json'];

export const DEFAULT_LOG_OPTIONS: LogOptions = { format: 'text', level: 'info' };

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const defaults = DEFAULT_SERVER_OPTIONS;

function count(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, not '${value}'`);
  }
  return number;
}

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((each) => each === value);
  if (found === undefined) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, not '${value}'`);
  return found;
}

function toggle(flag: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`--${flag} is on or off: its variable is 1, true, 0 or false, not '${value}'`);
}

/** `HOST:PORT`, `[IPV6]:PORT`, or a port alone, which listens on the loopback interface. */
function listenAddress(flag: string, value: string): MetricsAddress {
  const [, bracketed, named, port = value] = /^(?:\[([^\]]+)\]|([^:]+)):([^:]*)$/.exec(value) ?? [];
  const host = bracketed ?? named ?? (/^\d+$/.test(value) ? '127.0.0.1' : undefined);
  if (host === undefined) throw new UsageError(`--${flag} must be HOST:PORT or PORT, not '${value}'`);
  return { host, port: count(flag, port, 0, 65535) };
}

/** `ann,bob`: names by the login rules, separated by commas. */
function names(flag: string, value: string): string[] {
  const found = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of found) {
    const problem = nameProblem(name);
    if (problem !== undefined) throw new UsageError(`--${flag}: '${name}': ${problem}`);
  }
  return found;
}

/** `192.0.2.7,2001:db8::1`: IP addresses separated by commas, or `none`. */
function addresses(flag: string, value: string): string[] {
  if (value.trim() === 'none') return [];
  const found = value.split(',').map((address) => address.trim()).filter((address) => address !== '');
  const wrong = found.find((address) => isIP(address) === 0);
  if (wrong !== undefined) throw new UsageError(`--${flag}: '${wrong}' is not an IP address`);
  if (found.length === 0) throw new UsageError(`--${flag} needs IP addresses, comma-separated, or none`);
  return found;
}

function positive(flag: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new UsageError(`--${flag} must be a number above 0, not '${value}'`);
  }
  return number;
}

const SETTINGS: readonly Setting<Draft>[] = [
  { flag: 'host', env: 'CHATD_HOST', help: 'interface to listen on', fallback: 'all interfaces',
    apply: (v, o) => { o.host = v; } },
  { flag: 'port', env: 'CHATD_PORT', help: 'TCP port; 0 picks a free one, off serves TLS only', fallback: String(defaults.port),
    apply: (v, o) => { o.port = v === 'off' ? 'off' : count('port', v, 0, 65535); } },
  { flag: 'tls-port', env: 'CHATD_TLS_PORT', help: 'TCP port of a TLS listener; needs --tls-cert and --tls-key', fallback: 'none',
    apply: (v, o) => { o.tlsPort = count('tls-port', v, 0, 65535); } },
  { flag: 'tls-cert', env: 'CHATD_TLS_CERT', help: 'PEM file of the TLS certificate (chain); SIGHUP reloads it', fallback: 'none',
    apply: (v, o) => { o.tlsCert = v; } },
  { flag: 'tls-key', env: 'CHATD_TLS_KEY', help: 'PEM file of the TLS private key; SIGHUP reloads it', fallback: 'none',
    apply: (v, o) => { o.tlsKey = v; } },
  { flag: 'banner', env: 'CHATD_BANNER', help: 'first line every connection sees', fallback: `"${defaults.banner}"`,
    apply: (v, o) => { o.banner = v; } },
  { flag: 'max-line-bytes', env: 'CHATD_MAX_LINE_BYTES', help: 'longest line a user may send', fallback: String(defaults.maxLineBytes),
    apply: (v, o) => { o.maxLineBytes = count('max-line-bytes', v, 1); } },
  { flag: 'login-timeout', env: 'CHATD_LOGIN_TIMEOUT', help: 'seconds to give a valid username', fallback: String(defaults.loginTimeoutMs / 1000),
    apply: (v, o) => { o.loginTimeoutMs = positive('login-timeout', v) * 1000; } },
  { flag: 'max-name-attempts', env: 'CHATD_MAX_NAME_ATTEMPTS', help: 'refused usernames before a connection is closed', fallback: String(defaults.maxNameAttempts),
    apply: (v, o) => { o.maxNameAttempts = count('max-name-attempts', v, 1); } },
  { flag: 'max-login-bytes', env: 'CHATD_MAX_LOGIN_BYTES', help: 'bytes a connection may send before logging in', fallback: String(defaults.maxLoginBytes),
    apply: (v, o) => { o.maxLoginBytes = count('max-login-bytes', v, 1); } },
  { flag: 'max-send-queue', env: 'CHATD_MAX_SEND_QUEUE', help: 'unread bytes before a user is disconnected', fallback: String(defaults.maxSendQueueBytes),
    apply: (v, o) => { o.maxSendQueueBytes = count('max-send-queue', v, 1); } },
  { flag: 'rate', env: 'CHATD_RATE', help: 'lines per second a user may send', fallback: String(defaults.rateLimits.linesPerSecond),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), linesPerSecond: positive('rate', v) }; } },
  { flag: 'burst', env: 'CHATD_BURST', help: 'lines a user may send at once', fallback: String(defaults.rateLimits.burstLines),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), burstLines: count('burst', v, 1) }; } },
  { flag: 'max-queued-lines', env: 'CHATD_MAX_QUEUED_LINES', help: 'lines a user may have delayed before more are dropped', fallback: String(defaults.rateLimits.maxQueuedLines),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), maxQueuedLines: count('max-queued-lines', v, 0) }; } },
  { flag: 'reply-bytes-per-line', env: 'CHATD_REPLY_BYTES_PER_LINE', help: "bytes of a command's reply that cost its user one more line of their rate", fallback: String(REPLY_BYTES_PER_LINE),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), replyBytesPerLine: count('reply-bytes-per-line', v, 1) }; } },
  { flag: 'max-clients', env: 'CHATD_MAX_CLIENTS', help: 'connections open at once, TLS handshakes included', fallback: String(defaults.maxClients),
    apply: (v, o) => { o.maxClients = count('max-clients', v, 1); } },
  { flag: 'max-connections-per-address', env: 'CHATD_MAX_CONNECTIONS_PER_ADDRESS', help: 'connections one address (IPv6: its /64) may hold at once', fallback: String(defaults.maxConnectionsPerAddress),
    apply: (v, o) => { o.maxConnectionsPerAddress = count('max-connections-per-address', v, 1); } },
  { flag: 'max-connects-per-second', env: 'CHATD_MAX_CONNECTS_PER_SECOND', help: 'new connections per second per address, after its burst', fallback: String(defaults.maxConnectsPerSecond),
    apply: (v, o) => { o.maxConnectsPerSecond = positive('max-connects-per-second', v); } },
  { flag: 'connect-burst', env: 'CHATD_CONNECT_BURST', help: 'new connections per address at once after a quiet while', fallback: String(defaults.connectBurst),
    apply: (v, o) => { o.connectBurst = count('connect-burst', v, 1); } },
  { flag: 'exempt-addresses', env: 'CHATD_EXEMPT_ADDRESSES', help: 'IPs the per-address limits leave alone (comma-separated, or none)', fallback: defaults.exemptAddresses.join(','),
    apply: (v, o) => { o.exemptAddresses = addresses('exempt-addresses', v); } },
  { flag: 'handshake-timeout', env: 'CHATD_HANDSHAKE_TIMEOUT', help: 'seconds a TLS handshake may take (login timeout at most)', fallback: String(defaults.handshakeTimeoutMs / 1000),
    apply: (v, o) => { o.handshakeTimeoutMs = positive('handshake-timeout', v) * 1000; } },
  { flag: 'keepalive', env: 'CHATD_KEEPALIVE', help: 'idle seconds before TCP keepalive probes', fallback: String(defaults.keepAliveIdleMs / 1000),
    apply: (v, o) => { o.keepAliveIdleMs = count('keepalive', v, 1) * 1000; } },
  { flag: 'history', env: 'CHATD_HISTORY', help: 'chat lines a room replays to those who join it; 0 for none', fallback: String(defaults.historyLines),
    apply: (v, o) => { o.historyLines = count('history', v, 0, MAX_HISTORY_LINES); } },
  { flag: 'history-bytes', env: 'CHATD_HISTORY_BYTES', help: 'bytes of history all rooms keep together; the least recently used rooms lose lines first', fallback: String(defaults.historyBytes),
    apply: (v, o) => { o.historyBytes = count('history-bytes', v, 0); } },
  { flag: 'data-dir', env: 'CHATD_DATA_DIR', help: 'folder of the data file (registered names, operators, bans, motd); unused with --redis', fallback: DEFAULT_DATA_DIR,
    apply: (v, o) => { o.dataDir = v; } },
  { flag: 'max-registrations-per-hour', env: 'CHATD_MAX_REGISTRATIONS_PER_HOUR', help: 'names one address (an IPv6 /64) may register per hour; 0 for none', fallback: String(defaults.maxRegistrationsPerHour),
    apply: (v, o) => { o.maxRegistrationsPerHour = count('max-registrations-per-hour', v, 0); } },
  { flag: 'account-expiry-days', env: 'CHATD_ACCOUNT_EXPIRY_DAYS', help: 'days a registered name nobody has logged into since is kept', fallback: String(defaults.accountExpiryMs / DAY_MS),
    apply: (v, o) => { o.accountExpiryMs = positive('account-expiry-days', v) * DAY_MS; } },
  { flag: 'ops', env: 'CHATD_OPS', help: 'registered names, comma-separated, that are operators once they give their password', fallback: 'none',
    apply: (v, o) => { o.ops = names('ops', v); } },
  { flag: 'max-password-wait', env: 'CHATD_MAX_PASSWORD_WAIT', help: 'longest seconds a password check waits while guessing is slowed (at most half --login-timeout)',
    fallback: String(defaults.maxPasswordWaitMs / 1000), apply: (v, o) => { o.maxPasswordWaitMs = positive('max-password-wait', v) * 1000; } },
  { flag: 'free-password-checks', env: 'CHATD_FREE_PASSWORD_CHECKS', help: 'wrong password checks from one address, or of one name, before the next are spaced out',
    fallback: String(defaults.freePasswordChecks), apply: (v, o) => { o.freePasswordChecks = count('free-password-checks', v, 1, 1000); } },
  { flag: 'password-checks', env: 'CHATD_PASSWORD_CHECKS', help: 'password hashes computed at once (each takes a core about 50 ms)', fallback: String(defaults.passwordChecksAtOnce),
    apply: (v, o) => { o.passwordChecksAtOnce = count('password-checks', v, 1, 64); } },
  { flag: 'require-tls-for-passwords', env: 'CHATD_REQUIRE_TLS_FOR_PASSWORDS', help: 'refuse passwords over plain connections', fallback: 'off', toggle: true,
    apply: (v, o) => { o.requireTlsForPasswords = toggle('require-tls-for-passwords', v); } },
  { flag: 'redis', env: 'CHATD_REDIS', help: 'Redis URL (redis://[:PASSWORD@]HOST:PORT, rediss:// for TLS) or unix socket path to run a cluster on, which keeps its data too', fallback: 'none: serve alone',
    apply: (v, o) => { o.redis = v; } },
  { flag: 'redis-prefix', env: 'CHATD_REDIS_PREFIX', help: "prefix of the cluster's Redis keys", fallback: defaults.redisPrefix,
    apply: (v, o) => { o.redisPrefix = v; } },
  { flag: 'shutdown-grace', env: 'CHATD_SHUTDOWN_GRACE', help: 'seconds a closing connection waits for its peer to read and close', fallback: String(defaults.shutdownGraceMs / 1000),
    apply: (v, o) => { o.shutdownGraceMs = positive('shutdown-grace', v) * 1000; } },
  { flag: 'metrics-listen', env: 'CHATD_METRICS_LISTEN', help: 'HOST:PORT (or PORT, on loopback) to serve /metrics, /stats, /healthz', fallback: 'off',
    apply: (v, o) => { o.metricsListen = listenAddress('metrics-listen', v); } },
  { flag: 'log-chat', env: 'CHATD_LOG_CHAT', help: 'log what users say (debug level)', fallback: 'off', toggle: true,
    apply: (v, o) => { o.logChat = toggle('log-chat', v); } },
];

const LOG_SETTINGS: readonly Setting<Partial<Mutable<LogOptions>>>[] = [
  { flag: 'log-format', env: 'CHATD_LOG_FORMAT', help: `${FORMATS.join(' or ')}: json is one object a line`, fallback: DEFAULT_LOG_OPTIONS.format,
    apply: (v, o) => { o.format = oneOf('log-format', v, FORMATS); } },
  { flag: 'log-level', env: 'CHATD_LOG_LEVEL', help: `${LEVELS.join(', ')}: the least severe logged`, fallback: DEFAULT_LOG_OPTIONS.level,
    apply: (v, o) => { o.level = oneOf('log-level', v, LEVELS); } },
];

const ALL_SETTINGS: readonly (Setting<Draft> | Setting<Partial<Mutable<LogOptions>>>)[] = [...SETTINGS, ...LOG_SETTINGS];

/** The text of `chatd --help`. */
export function usage(): string {
  const rows = ALL_SETTINGS.map((s) => `  --${`${s.flag}${s.toggle ? '' : ' <value>'}`.padEnd(24)} ${s.help} (env ${s.env}, default ${s.fallback})`);
  return [
    'Usage: chatd [options]',
    '       chatd accounts list | accounts remove NAME  [--data-dir DIR | --redis URL [--redis-prefix PREFIX]]',
    '',
    'A chat server for nc and telnet. Flags override the environment.',
    '',
    ...rows,
    `  ${'-h, --help'.padEnd(26)} print this help and exit`,
    `  ${'-v, --version'.padEnd(26)} print the version and exit`,
    '',
  ].join('\n');
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly options: Partial<ChatServerOptions>; readonly log: LogOptions };

/** Applies each of `settings` given by a flag or, failing that, by the environment. */
function applySettings<T>(settings: readonly Setting<T>[], values: Record<string, unknown>, env: NodeJS.ProcessEnv, into: T): void {
  for (const setting of settings) {
    const flagged = values[setting.flag];
    const value = flagged === true ? 'true' : (flagged ?? env[setting.env]);
    if (typeof value === 'string') setting.apply(value, into);
  }
}

/** Reads argv and the environment; throws UsageError on an unknown flag or a bad value. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const flags = Object.fromEntries(ALL_SETTINGS.map((s) => [s.flag, { type: s.toggle ? ('boolean' as const) : ('string' as const) }]));
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { ...flags, help: { type: 'boolean', short: 'h' }, version: { type: 'boolean', short: 'v' } },
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  if (parsed.values['help'] === true) return { kind: 'help' };
  if (parsed.values['version'] === true) return { kind: 'version' };
  const draft: Draft = {};
  const log: Partial<Mutable<LogOptions>> = {};
  applySettings(SETTINGS, parsed.values, env, draft);
  applySettings(LOG_SETTINGS, parsed.values, env, log);
  return { kind: 'serve', options: checkListeners(draft), log: { ...DEFAULT_LOG_OPTIONS, ...log } };
}

/** The TLS flags come all three or not at all, and something must listen. */
function checkListeners({ tlsPort, tlsCert, tlsKey, ...options }: Draft): Partial<ChatServerOptions> {
  const given = [tlsPort, tlsCert, tlsKey].filter((value) => value !== undefined).length;
  if (given > 0 && (tlsPort === undefined || tlsCert === undefined || tlsKey === undefined)) {
    throw new UsageError('--tls-port, --tls-cert and --tls-key go together');
  }
  if (tlsPort !== undefined && tlsCert !== undefined && tlsKey !== undefined) options.tls = { port: tlsPort, certFile: tlsCert, keyFile: tlsKey };
  if (options.port === 'off' && options.tls === undefined) throw new UsageError('--port off needs a TLS listener (--tls-port)');
  return options;
}

function version(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const found = typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : undefined;
  return typeof found === 'string' ? found : 'unknown';
}

/** One log line before it is formatted: its level, its event's name and fields, its text. */
export interface LogEntry {
  readonly level: LogLevel;
  readonly event: string;
  readonly fields: Readonly<Record<string, string | number>>;
  /** The line as the text format shows it, after the time. */
  readonly text: string;
}

const entry = (level: LogLevel, event: string, text: string, fields: Record<string, string | number> = {}): LogEntry =>
  ({ level, event, fields, text });

/** A server event as a log entry. No chat text but a `said` event's, which only `--log-chat` reports. */
export function logEntry(event: ServerEvent): LogEntry {
  switch (event.kind) {
    case 'connect': {
      const text = `connect #${event.id} from ${event.from}${event.tls ? ' (tls)' : ''}`;
      return entry('info', 'connect', text, { id: event.id, from: event.from, tls: String(event.tls) });
    }
    case 'handshake-failed':
      return entry('warn', 'handshake-failed', `TLS handshake failed from ${event.from} (${event.reason})`, { from: event.from, reason: event.reason });
    case 'login': return entry('info', 'login', `login #${event.id} ${event.nick}`, { id: event.id, nick: event.nick });
    case 'rename': return entry('info', 'rename', `rename #${event.id} ${event.from} -> ${event.nick}`, { id: event.id, from: event.from, nick: event.nick });
    case 'logout': return entry('info', 'logout', `logout #${event.id} ${event.nick}`, { id: event.id, nick: event.nick });
    case 'said': return entry('debug', 'said', `said #${event.id} in ${event.room}: ${event.text}`, { id: event.id, room: event.room, text: event.text });
    case 'disconnect': {
      const fields = { id: event.id, reason: event.reason, ...(event.error === undefined ? {} : { error: event.error }) };
      const why = event.error === undefined ? event.reason : `${event.reason}: ${event.error}`;
      return entry('info', 'disconnect', `disconnect #${event.id} (${why})`, fields);
    }
    case 'full': return entry('warn', 'refused', `refused ${event.from}: server full`, { from: event.from, reason: 'full' });
    case 'per_address':
      return entry('warn', 'refused', `refused ${event.from}: too many connections from its address`, { from: event.from, reason: 'per_address' });
    case 'connect_rate':
      return entry('warn', 'refused', `refused ${event.from}: connecting too fast`, { from: event.from, reason: 'connect_rate' });
    case 'moderation': return moderationEntry(event.action);
    case 'account': return accountEntry(event.change);
    case 'bus': return entry('warn', 'bus', event.message, { message: event.message });
    case 'error': return entry('error', 'error', `error: ${event.error.message}`, { message: event.error.message });
  }
}

/** An operator's action as a log entry, with who did it. */
function moderationEntry({ action, by, target, detail }: ModerationAction): LogEntry {
  const text = `${action}${target === '' ? '' : ` ${target}`} by ${by}${detail === '' ? '' : ` (${detail})`}`;
  return entry('info', action, text, { by, ...(target === '' ? {} : { target }), ...(detail === '' ? {} : { detail }) });
}

/** An account change as a log entry: who and from where, never a password. */
function accountEntry(change: AccountChange): LogEntry {
  switch (change.kind) {
    case 'registered': return entry('info', 'register', `register ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'password-changed':
      return entry('info', 'password-changed', `password changed for ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'unregistered': return entry('info', 'unregister', `unregister ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'released':
      return entry('info', 'release', `release ${change.name} by ${change.by} from ${change.from}`, { name: change.name, by: change.by, from: change.from });
    case 'expired': {
      const registered = new Date(change.registeredAt).toISOString();
      return entry('info', 'expire', `expire ${change.name}: registered ${registered}, never logged into since`, { name: change.name, registered });
    }
    case 'registrations-limited':
      return entry('warn', 'registrations-limited', `refused to register ${change.name} from ${change.from}: too many registrations from that address this hour`, { name: change.name, from: change.from });
    case 'wrong-password':
      return entry('warn', 'wrong-password', `wrong password for ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'slowed': {
      const whose = change.what === 'address' ? `from ${change.key}` : `of name ${change.key}`;
      return entry('warn', 'guessing-slowed', `password checks ${whose} are slowed: too many wrong ones lately`, { what: change.what, key: change.key });
    }
    case 'save-failed':
    case 'read-failed': return entry('error', 'error', `error: ${change.error.message}`, { message: change.error.message });
    case 'check-failed':
      return entry('error', 'check-failed', `could not check a password or make an account change: ${change.error.message}`, { message: change.error.message });
  }
}

// What a text log line must not hold as it is: a control (a `\n` would start a forged line of its
// own, an escape sequence would drive the reader's terminal), a line or paragraph separator, a
// bidi control (it would show the line in another order), and the backslash that escapes them.
const UNPRINTABLE = /[\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeOne = (character: string): string => {
  const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  const code = character.charCodeAt(0);
  return named[character] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
};

/**
 * `text` with every control character (and backslash) written as an escape, so that a field,
 * whatever its source (a user, a forged event on the bus), stays inside its one log line.
 */
export const escapeControls = (text: string): string => text.replace(UNPRINTABLE, escapeOne);

/** The line for `entry` at `time`, or undefined when `options.level` leaves it out. */
export function formatEntry(logged: LogEntry, options: LogOptions, time: Date): string | undefined {
  if (LEVELS.indexOf(logged.level) > LEVELS.indexOf(options.level)) return undefined;
  if (options.format === 'text') return `${time.toISOString()} ${escapeControls(logged.text)}\n`;
  return `${JSON.stringify({ time: time.toISOString(), level: logged.level, event: logged.event, ...logged.fields })}\n`;
}

/**
 * A logger to stdout with `options`. A log whose reader has gone (`chatd | head`, a closed
 * terminal) fails its writes with EPIPE: chatd goes on serving, and logs no more.
 */
function logger(options: LogOptions): (logged: LogEntry) => void {
  let readerGone = false;
  process.stdout.once('error', () => {
    readerGone = true;
  });
  return (logged) => {
    const line = formatEntry(logged, options, new Date());
    if (line !== undefined && !readerGone) process.stdout.write(line);
  };
}

const hostPort = (address: AddressInfo): string =>
  `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

/** Why the chat or the metrics endpoint, whichever failed, could not listen. */
function bindError(err: unknown, options: Partial<ChatServerOptions>): string {
  if (!(err instanceof Error)) return String(err);
  const code = 'code' in err ? err.code : undefined;
  const port = 'port' in err && typeof err.port === 'number' ? err.port : undefined;
  if (port === undefined) return err.message;
  const what = port === options.metricsListen?.port ? 'metrics port' : 'port'; // the same port for both fails on the chat's
  if (code === 'EADDRINUSE') return `${what} ${port} is already in use`;
  if (code === 'EACCES') return `no permission to listen on ${what} ${port}`;
  return err.message;
}

/** SIGHUP reloads the TLS certificate and key; whatever happens, the process goes on. */
function reloadOnHangUp(server: ChatServer, tls: boolean, log: (logged: LogEntry) => void): () => void {
  return () => {
    if (!tls) {
      log(entry('info', 'reload', 'SIGHUP: no TLS certificate to reload'));
      return;
    }
    server.reloadTls().then(
      () => log(entry('info', 'reload', 'SIGHUP: reloaded the TLS certificate and key')),
      (err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        log(entry('error', 'reload-failed', `SIGHUP: kept the TLS certificate and key in use: ${message}`, { message }));
      },
    );
  };
}

/** Serves until SIGINT or SIGTERM, reloading TLS files on SIGHUP. Resolves with the exit code. */
async function serve(options: Partial<ChatServerOptions>, logOptions: LogOptions): Promise<number> {
  const log = logger(logOptions);
  const server = createChatServer({ dataDir: DEFAULT_DATA_DIR, ...options, onEvent: (event) => log(logEntry(event)) });
  const onHangUp = reloadOnHangUp(server, options.tls !== undefined, log);
  process.on('SIGHUP', onHangUp); // from the start: SIGHUP's default action would end the process
  try {
    return await serveUntilSignalled(server, options, log);
  } finally {
    process.off('SIGHUP', onHangUp);
  }
}

async function serveUntilSignalled(server: ChatServer, options: Partial<ChatServerOptions>, log: (logged: LogEntry) => void): Promise<number> {
  // Listening for signals before the log says we listen: a script may signal as soon as it reads that.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve).once('SIGTERM', resolve);
  });
  // After the first signal, a second one means now: the default action ends the process at once.
  const stopListeningForSignals = () => process.removeAllListeners('SIGINT').removeAllListeners('SIGTERM');
  try {
    await server.listen();
    const [plain, tls] = [server.address(), server.tlsAddress()];
    if (plain !== null) log(entry('info', 'listening', `listening on ${hostPort(plain)}`, { address: hostPort(plain) }));
    if (tls !== null) log(entry('info', 'listening', `listening for TLS on ${hostPort(tls)}`, { address: hostPort(tls), tls: 'true' }));
  } catch (err) {
    stopListeningForSignals();
    process.stderr.write(`chatd: ${bindError(err, options)}\n`);
    return 1;
  }
  const metrics = server.metricsAddress();
  if (metrics !== null) {
    const url = `http://${hostPort(metrics)}/metrics`;
    log(entry('info', 'metrics', `metrics on ${url}`, { url }));
  }
  const signal = await signalled;
  stopListeningForSignals();
  log(entry('info', 'shutdown', `${signal}: shutting down`, { signal }));
  await server.close();
  log(entry('info', 'closed', 'closed'));
  return 0;
}

/** Runs chatd with argv (without node and the script); sets process.exitCode. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (argv[0] === 'accounts') {
    process.exitCode = await accountsCommand(argv.slice(1), env, DEFAULT_DATA_DIR);
    return;
  }
  let command: Command;
  try {
    command = parseCommand(argv, env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chatd: ${err.message}\n\n${usage()}`);
    process.exitCode = 2;
    return;
  }
  if (command.kind === 'help') process.stdout.write(usage());
  else if (command.kind === 'version') process.stdout.write(`chatd ${version()}\n`);
  else process.exitCode = await serve(command.options, command.log);
}

/** The entry point of bin/chatd. */
export function run(argv: readonly string[]): void {
  main(argv).catch((err: unknown) => {
    process.stderr.write(`chatd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
