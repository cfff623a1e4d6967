import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { accountsCommand } from '../accounts-command';
import { errorText } from '../error-text';
import { type ChatServer, type ChatServerOptions, createChatServer } from '../server';
import { UsageError } from './flags';
import { usage } from './help';
import { entry, type LogEntry, logEntry, logger, type LogOptions } from './log';
import { type Command, DEFAULT_DATA_DIR, parseCommand } from './settings';

function version(): string {
  const manifest: unknown = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'package.json'), 'utf8'));
  const found = typeof manifest === 'object' && manifest !== null && 'version' in manifest ? manifest.version : undefined;
  return typeof found === 'string' ? found : 'unknown';
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
    (err: unknown) => log(entry('error', 'reload-failed', `SIGHUP: kept the SSH host key in use: ${errorText(err)}`, { message: errorText(err) })),
  );
  return () => {
    if (ssh) void reloadSsh(); // never rejects: both outcomes are logged
    if (!tls) {
      if (!ssh) log(entry('info', 'reload', 'SIGHUP: no TLS certificate to reload'));
      return;
    }
    server.reloadTls().then(
      () => log(entry('info', 'reload', 'SIGHUP: reloaded the TLS certificate and key')),
      (err: unknown) => {
        const message = errorText(err);
        log(entry('error', 'reload-failed', `SIGHUP: kept the TLS certificate and key in use: ${message}`, { message }));
      },
    );
  };
}

/** Serves until SIGINT or SIGTERM, reloading TLS files on SIGHUP. Resolves with the exit code. */
async function serve(options: Partial<ChatServerOptions>, logOptions: LogOptions): Promise<number> {
  const log = logger(logOptions);
  const server = createChatServer({ dataDir: DEFAULT_DATA_DIR, ...options, onEvent: (event) => log(logEntry(event)) });
  const onHangUp = reloadOnHangUp(server, options.tls !== undefined || options.web?.tls !== undefined, options.ssh !== undefined, log);
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
    for (const [scheme, web] of [['http', server.webAddress()], ['https', server.webTlsAddress()]] as const) {
      if (web !== null) log(entry('info', 'listening', `browser door on ${scheme}://${hostPort(web)}/`, { url: `${scheme}://${hostPort(web)}/` }));
    }
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
    process.stderr.write(`chatd: ${errorText(err)}\n`);
    process.exitCode = 1;
  });
}
