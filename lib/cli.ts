import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AddressInfo, isIP } from 'node:net';
import { accountsCommand } from './accounts-command';
import type { ModerationAction } from './chat/moderation';
import { nameProblem } from './chat/names';
import { REPLY_BYTES_PER_LINE } from './chat/pace';
import { MAX_HISTORY_LINES } from './chat/state';
import type { MetricsAddress } from './edge/metrics';
import { type ChatServer, type ChatServerOptions, createChatServer, DEFAULT_SERVER_OPTIONS, MAX_KEEPALIVE_IDLE_MS, type ServerEvent } from './server';
import { type AccountChange, DAY_MS } from './store/registry';
import { escapeControls } from './chat/sanitize';

/** A command-line mistake: usage goes to stderr and the exit code is 2. */
export class UsageError extends Error {
  readonly code = 'CHAT_USAGE';
}

/** One option: its flag, its environment variable, and what `--help` says of it. */
type Setting<T> = {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly fallback: string;
  readonly apply: (value: string, into: T) => void;
} & (
  /** A flag that takes no value; its variable is 1, true, 0 or false. */
  | { readonly toggle: true }
  /** What the value is, as `--help` shows it after the flag: `<port>`, `<seconds>`, `<file>`. */
  | { readonly value: string }
);

/** Options as the flags give them, the TLS ones one by one until they are checked together. */
interface Draft extends Partial<Mutable<ChatServerOptions>> {
  tlsPort?: number;
  tlsCert?: string;
  tlsKey?: string;
  sshPort?: number;
  sshHostKey?: string;
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
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be a whole number ${range}, not '${value}'`);
  }
  return number;
}

function given(flag: string, value: string): string {
  if (value === '') throw new UsageError(`--${flag} must not be empty`);
  return value;
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
  if (found.length === 0) throw new UsageError(`--${flag} must name someone: registered names, comma-separated, not '${value}'`);
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
  { flag: 'host', value: '<host>', env: 'CHATD_HOST', help: 'interface to listen on', fallback: 'all interfaces',
    apply: (v, o) => { o.host = given('host', v); } },
  { flag: 'port', value: '<port>', env: 'CHATD_PORT', help: 'TCP port; 0 picks a free one, off serves the other doors only', fallback: String(defaults.port),
    apply: (v, o) => { o.port = v === 'off' ? 'off' : count('port', v, 0, 65535); } },
  { flag: 'tls-port', value: '<port>', env: 'CHATD_TLS_PORT', help: 'TCP port of a TLS listener; needs --tls-cert and --tls-key', fallback: 'none',
    apply: (v, o) => { o.tlsPort = count('tls-port', v, 0, 65535); } },
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
    apply: (v, o) => { o.loginTimeoutMs = positive('login-timeout', v) * 1000; } },
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
    apply: (v, o) => { o.handshakeTimeoutMs = positive('handshake-timeout', v) * 1000; } },
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
    fallback: String(defaults.maxPasswordWaitMs / 1000), apply: (v, o) => { o.maxPasswordWaitMs = positive('max-password-wait', v) * 1000; } },
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
    apply: (v, o) => { o.shutdownGraceMs = positive('shutdown-grace', v) * 1000; } },
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

const ALL_SETTINGS: readonly (Setting<Draft> | Setting<Partial<Mutable<LogOptions>>>)[] = [...SETTINGS, ...LOG_SETTINGS];

/** The widest `--help` is, in columns, so that it reads whole in a terminal of that width. */
export const HELP_COLUMNS = 100;

/** `text` in lines of at most `width` columns, broken between words; a longer word stands alone. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** `text` wrapped to `width`, then `aside` after it: on its last line if it fits there whole. */
function describe(text: string, aside: string, width: number): string[] {
  const lines = wrap(text, width);
  const last = lines.pop() ?? '';
  if (aside === '') return [...lines, last];
  return last.length + 1 + aside.length <= width ? [...lines, `${last} ${aside}`] : [...lines, last, ...wrap(aside, width)];
}

/** The text of `chatd --help`: a row for each option, its description in one column beside the flags. */
export function usage(): string {
  const entries: [string, string, string][] = [
    ...ALL_SETTINGS.map((s): [string, string, string] => [`--${s.flag}${'value' in s ? ` ${s.value}` : ''}`, s.help, `(env ${s.env}, default ${s.fallback})`]),
    ['-h, --help', 'print this help and exit', ''],
    ['-v, --version', 'print the version and exit', ''],
  ];
  const column = 2 + Math.max(...entries.map(([flags]) => flags.length)) + 2;
  const rows = entries.flatMap(([flags, text, aside]) =>
    describe(text, aside, HELP_COLUMNS - column).map((line, at) => `${at === 0 ? `  ${flags}`.padEnd(column) : ' '.repeat(column)}${line}`));
  return [
    'Usage: chatd [options]',
    '       chatd accounts list | accounts remove NAME',
    '             [--data-dir <dir> | --redis <url> [--redis-prefix <prefix>]]',
    '',
    'A chat server for nc and telnet. Flags override the environment.', '', ...rows, ''].join('\n');
}

export type Command =
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'serve'; readonly options: Partial<ChatServerOptions>; readonly log: LogOptions };

/** Applies each of `settings` given by a flag or, failing that, by the environment; an empty
 * variable counts as unset, as a shell's `VAR= chatd` means. */
function applySettings<T>(settings: readonly Setting<T>[], flags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv, into: T): void {
  for (const setting of settings) {
    const fromEnv = env[setting.env];
    const value = flags.get(setting.flag) ?? (fromEnv === '' ? undefined : fromEnv);
    if (value !== undefined) setting.apply(value, into);
  }
}

const SETTING_OF_FLAG = new Map(ALL_SETTINGS.map((setting) => [setting.flag, setting]));

/**
 * The flags of `argv` by name, the last of a repeated one winning, or 'help' or 'version'. A
 * value is the next argument whatever it starts with (`--history -1` is a value chatd refuses in
 * its own words), or follows `=`; a toggle takes a value only after `=`.
 */
function readFlags(argv: readonly string[]): Map<string, string> | 'help' | 'version' {
  const flags = new Map<string, string>();
  for (let at = 0; at < argv.length; at++) {
    const arg = argv[at] ?? '';
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '-v' || arg === '--version') return 'version';
    const [, name = '', inline] = /^--([^=]+)(?:=(.*))?$/s.exec(arg) ?? [];
    const setting = SETTING_OF_FLAG.get(name);
    if (setting === undefined) throw new UsageError(name === '' ? `unexpected argument '${arg}'` : `unknown option --${name}`);
    if ('toggle' in setting) flags.set(name, inline ?? 'true');
    else {
      const value = inline ?? argv[++at];
      if (value === undefined) throw new UsageError(`--${name} needs a value: --${name} ${setting.value}`);
      flags.set(name, value);
    }
  }
  return flags;
}

/** Reads argv and the environment; throws UsageError on an unknown flag or a bad value. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const flags = readFlags(argv);
  if (flags === 'help' || flags === 'version') return { kind: flags };
  const draft: Draft = {};
  const log: Partial<Mutable<LogOptions>> = {};
  applySettings(SETTINGS, flags, env, draft);
  applySettings(LOG_SETTINGS, flags, env, log);
  return { kind: 'serve', options: checkListeners(draft), log: { ...DEFAULT_LOG_OPTIONS, ...log } };
}

/** The TLS flags come all three or not at all, and something must listen. */
function checkListeners({ tlsPort, tlsCert, tlsKey, sshPort, sshHostKey, ...options }: Draft): Partial<ChatServerOptions> {
  const given = [tlsPort, tlsCert, tlsKey].filter((value) => value !== undefined).length;
  if (given > 0 && (tlsPort === undefined || tlsCert === undefined || tlsKey === undefined)) {
    throw new UsageError('--tls-port, --tls-cert and --tls-key go together');
  }
  if (tlsPort !== undefined && tlsPort !== 0 && tlsPort === (options.port ?? defaults.port)) {
    throw new UsageError(`--port and --tls-port are the same port, ${tlsPort}: give each its own`);
  }
  if (tlsPort !== undefined && tlsCert !== undefined && tlsKey !== undefined) options.tls = { port: tlsPort, certFile: tlsCert, keyFile: tlsKey };
  if (sshPort === undefined && sshHostKey !== undefined) throw new UsageError('--ssh-host-key needs --ssh-port');
  const ports = [options.port ?? defaults.port, tlsPort].filter((port) => port !== undefined && port !== 0);
  if (sshPort !== undefined && sshPort !== 0 && ports.includes(sshPort)) throw new UsageError(`--ssh-port ${sshPort} is taken by another door: give each its own`);
  if (sshPort !== undefined && options.redis !== undefined && sshHostKey === undefined) throw new UsageError("--ssh-port with --redis needs --ssh-host-key: a cluster's nodes must show the same key");
  if (sshPort !== undefined) options.ssh = sshHostKey === undefined ? { port: sshPort } : { port: sshPort, hostKeyFile: sshHostKey };
  if (options.port === 'off' && options.tls === undefined && options.ssh === undefined) throw new UsageError('--port off needs another door (--tls-port or --ssh-port)');
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
  readonly fields: Readonly<Record<string, string | number | boolean>>;
  /** The line as the text format shows it, after the time. */
  readonly text: string;
}

const entry = (level: LogLevel, event: string, text: string, fields: Record<string, string | number | boolean> = {}): LogEntry =>
  ({ level, event, fields, text });

/** A server event as a log entry. No chat text but a `said` or `acted` event's, which only `--log-chat` reports. */
export function logEntry(event: ServerEvent): LogEntry {
  switch (event.kind) {
    case 'connect': {
      const door = event.door ?? (event.tls ? 'tls' : undefined);
      const text = `connect #${event.id} from ${event.from}${door === undefined ? '' : ` (${door})`}`;
      return entry('info', 'connect', text, { id: event.id, from: event.from, tls: event.tls, ...(event.door === undefined ? {} : { door: event.door }) });
    }
    case 'handshake-failed':
      return entry('warn', 'handshake-failed', `TLS handshake failed from ${event.from} (${event.reason})`, { from: event.from, reason: event.reason });
    case 'ssh-failed':
      return entry('warn', 'handshake-failed', `SSH login failed from ${event.from} (${event.reason})`, { from: event.from, reason: event.reason, ssh: true });
    case 'ssh-refused':
      return entry('warn', 'ssh-refused', `refused ${event.request} from ${event.from}`, { from: event.from, request: event.request });
    case 'ssh-host-key': {
      const where = event.file === undefined ? 'given' : `${event.created ? 'made in' : 'from'} ${event.file}`;
      return entry('info', 'ssh-host-key', `SSH host key ${event.fingerprint} (${where})`, { fingerprint: event.fingerprint, ...(event.file === undefined ? {} : { file: event.file }), created: event.created });
    }
    case 'login': return entry('info', 'login', `login #${event.id} ${event.nick}`, { id: event.id, nick: event.nick });
    case 'rename': return entry('info', 'rename', `rename #${event.id} ${event.from} -> ${event.nick}`, { id: event.id, from: event.from, nick: event.nick });
    case 'logout': return entry('info', 'logout', `logout #${event.id} ${event.nick}`, { id: event.id, nick: event.nick });
    case 'said':
    case 'acted': return entry('debug', event.kind, `${event.kind} #${event.id} in ${event.room}: ${event.text}`, { id: event.id, room: event.room, text: event.text });
    case 'node': return entry('info', 'node', `cluster node ${event.node}: its connections are #${event.node}:N`, { node: event.node });
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
  // Kept, not once: writes the pipe had taken before it broke may each fail after the first.
  process.stdout.on('error', () => {
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

/** SIGHUP reloads the TLS certificate and key and the SSH host key; whatever happens, the process goes on. */
function reloadOnHangUp(server: ChatServer, tls: boolean, ssh: boolean, log: (logged: LogEntry) => void): () => void {
  const reloadSsh = () => server.reloadSshHostKey().then(
    (key) => log(entry('info', 'reload', `SIGHUP: reloaded the SSH host key ${key.fingerprint}`, { fingerprint: key.fingerprint })),
    (err: unknown) => {
      const message = err instanceof Error ? err.message : String(err);
      log(entry('error', 'reload-failed', `SIGHUP: kept the SSH host key in use: ${message}`, { message }));
    },
  );
  return () => {
    if (ssh) void reloadSsh();
    if (!tls) {
      if (!ssh) log(entry('info', 'reload', 'SIGHUP: no TLS certificate to reload'));
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
  const onHangUp = reloadOnHangUp(server, options.tls !== undefined, options.ssh !== undefined, log);
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
    const [plain, tls, ssh] = [server.address(), server.tlsAddress(), server.sshAddress()];
    if (plain !== null) log(entry('info', 'listening', `listening on ${hostPort(plain)}`, { address: hostPort(plain) }));
    if (tls !== null) log(entry('info', 'listening', `listening for TLS on ${hostPort(tls)}`, { address: hostPort(tls), tls: true }));
    if (ssh !== null) log(entry('info', 'listening', `listening for SSH on ${hostPort(ssh)}`, { address: hostPort(ssh), ssh: true }));
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
