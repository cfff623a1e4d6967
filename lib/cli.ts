import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MAX_HISTORY_LINES } from './chat/state';
import { type ChatServerOptions, createChatServer, DEFAULT_SERVER_OPTIONS, type ServerEvent } from './server';

/** A command-line mistake: usage goes to stderr and the exit code is 2. */
export class UsageError extends Error {
  readonly code = 'CHAT_USAGE';
}

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly fallback: string;
  readonly apply: (value: string, into: Partial<Mutable<ChatServerOptions>>) => void;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const defaults = DEFAULT_SERVER_OPTIONS;

function count(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    throw new UsageError(`--${flag} must be a whole number from ${min} to ${max}, not '${value}'`);
  }
  return number;
}

function positive(flag: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new UsageError(`--${flag} must be a number above 0, not '${value}'`);
  }
  return number;
}

const SETTINGS: readonly Setting[] = [
  { flag: 'host', env: 'CHATD_HOST', help: 'interface to listen on', fallback: 'all interfaces',
    apply: (v, o) => { o.host = v; } },
  { flag: 'port', env: 'CHATD_PORT', help: 'TCP port; 0 picks a free one', fallback: String(defaults.port),
    apply: (v, o) => { o.port = count('port', v, 0, 65535); } },
  { flag: 'banner', env: 'CHATD_BANNER', help: 'first line every connection sees', fallback: `"${defaults.banner}"`,
    apply: (v, o) => { o.banner = v; } },
  { flag: 'max-line-bytes', env: 'CHATD_MAX_LINE_BYTES', help: 'longest line a user may send', fallback: String(defaults.maxLineBytes),
    apply: (v, o) => { o.maxLineBytes = count('max-line-bytes', v, 1); } },
  { flag: 'login-timeout', env: 'CHATD_LOGIN_TIMEOUT', help: 'seconds to give a valid username', fallback: String(defaults.loginTimeoutMs / 1000),
    apply: (v, o) => { o.loginTimeoutMs = positive('login-timeout', v) * 1000; } },
  { flag: 'max-send-queue', env: 'CHATD_MAX_SEND_QUEUE', help: 'unread bytes before a user is disconnected', fallback: String(defaults.maxSendQueueBytes),
    apply: (v, o) => { o.maxSendQueueBytes = count('max-send-queue', v, 1); } },
  { flag: 'rate', env: 'CHATD_RATE', help: 'lines per second a user may send', fallback: String(defaults.rateLimits.linesPerSecond),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), linesPerSecond: positive('rate', v) }; } },
  { flag: 'burst', env: 'CHATD_BURST', help: 'lines a user may send at once', fallback: String(defaults.rateLimits.burstLines),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), burstLines: count('burst', v, 1) }; } },
  { flag: 'max-queued-lines', env: 'CHATD_MAX_QUEUED_LINES', help: 'lines a user may have delayed before more are dropped', fallback: String(defaults.rateLimits.maxQueuedLines),
    apply: (v, o) => { o.rateLimits = { ...(o.rateLimits ?? defaults.rateLimits), maxQueuedLines: count('max-queued-lines', v, 0) }; } },
  { flag: 'max-clients', env: 'CHATD_MAX_CLIENTS', help: 'connections served at once', fallback: String(defaults.maxClients),
    apply: (v, o) => { o.maxClients = count('max-clients', v, 1); } },
  { flag: 'keepalive', env: 'CHATD_KEEPALIVE', help: 'idle seconds before TCP keepalive probes', fallback: String(defaults.keepAliveIdleMs / 1000),
    apply: (v, o) => { o.keepAliveIdleMs = count('keepalive', v, 1) * 1000; } },
  { flag: 'history', env: 'CHATD_HISTORY', help: 'chat lines a room replays to those who join it; 0 for none', fallback: String(defaults.historyLines),
    apply: (v, o) => { o.historyLines = count('history', v, 0, MAX_HISTORY_LINES); } },
  { flag: 'redis', env: 'CHATD_REDIS', help: 'Redis URL (or unix socket path) to run a cluster on', fallback: 'none: serve alone',
    apply: (v, o) => { o.redis = v; } },
  { flag: 'redis-prefix', env: 'CHATD_REDIS_PREFIX', help: "prefix of the cluster's Redis keys", fallback: defaults.redisPrefix,
    apply: (v, o) => { o.redisPrefix = v; } },
  { flag: 'shutdown-grace', env: 'CHATD_SHUTDOWN_GRACE', help: 'seconds a shutdown waits for peers to read', fallback: String(defaults.shutdownGraceMs / 1000),
    apply: (v, o) => { o.shutdownGraceMs = positive('shutdown-grace', v) * 1000; } },
];

/** The text of `chatd --help`. */
export function usage(): string {
  const rows = SETTINGS.map((s) => `  --${`${s.flag} <value>`.padEnd(24)} ${s.help} (env ${s.env}, default ${s.fallback})`);
  return [
    'Usage: chatd [options]',
    '',
    'A chat server for nc and telnet. Flags override the environment.',
    '',
    ...rows,
    `  ${'-h, --help'.padEnd(26)} print this help and exit`,
    `  ${'-v, --version'.padEnd(26)} print the version and exit`,
    '',
  ].join('\n');
}

export type Command = { readonly kind: 'help' } | { readonly kind: 'version' } | { readonly kind: 'serve'; readonly options: Partial<ChatServerOptions> };

/** Reads argv and the environment; throws UsageError on an unknown flag or a bad value. */
export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv): Command {
  const flags = Object.fromEntries(SETTINGS.map((s) => [s.flag, { type: 'string' as const }]));
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
  const options: Partial<Mutable<ChatServerOptions>> = {};
  for (const setting of SETTINGS) {
    const value = parsed.values[setting.flag] ?? env[setting.env];
    if (typeof value === 'string') setting.apply(value, options);
  }
  return { kind: 'serve', options };
}

function version(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const found = typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : undefined;
  return typeof found === 'string' ? found : 'unknown';
}

function describeEvent(event: ServerEvent): string {
  switch (event.kind) {
    case 'connect': return `connect #${event.id} from ${event.from}`;
    case 'login': return `login #${event.id} ${event.nick}`;
    case 'rename': return `rename #${event.id} ${event.from} -> ${event.nick}`;
    case 'logout': return `logout #${event.id} ${event.nick}`;
    case 'disconnect': return `disconnect #${event.id} (${event.reason})`;
    case 'full': return `refused ${event.from}: server full`;
    case 'bus': return event.message;
    case 'error': return `error: ${event.error.message}`;
  }
}

const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);

function bindError(err: unknown, port: number): string {
  if (!(err instanceof Error)) return String(err);
  const code = 'code' in err ? err.code : undefined;
  if (code === 'EADDRINUSE') return `port ${port} is already in use`;
  if (code === 'EACCES') return `no permission to listen on port ${port}`;
  return err.message;
}

/** Serves until SIGINT or SIGTERM. Resolves with the process exit code. */
async function serve(options: Partial<ChatServerOptions>): Promise<number> {
  const server = createChatServer({ ...options, onEvent: (event) => log(describeEvent(event)) });
  // Listening for signals before the log says we listen: a script may signal as soon as it reads that.
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve).once('SIGTERM', resolve);
  });
  // After the first signal, a second one means now: the default action ends the process at once.
  const stopListeningForSignals = () => process.removeAllListeners('SIGINT').removeAllListeners('SIGTERM');
  try {
    const { address, family, port } = await server.listen();
    log(`listening on ${family === 'IPv6' ? `[${address}]` : address}:${port}`);
  } catch (err) {
    stopListeningForSignals();
    process.stderr.write(`chatd: ${bindError(err, options.port ?? defaults.port)}\n`);
    return 1;
  }
  const signal = await signalled;
  stopListeningForSignals();
  log(`${signal}: shutting down`);
  await server.close();
  log('closed');
  return 0;
}

/** Runs chatd with argv (without node and the script); sets process.exitCode. */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<void> {
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
  else process.exitCode = await serve(command.options);
}

/** The entry point of bin/chatd. */
export function run(argv: readonly string[]): void {
  main(argv).catch((err: unknown) => {
    process.stderr.write(`chatd: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
