import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import { HELP_COLUMNS, usage } from '../lib/cli/help';
import { DEFAULT_LOG_OPTIONS, formatEntry, logEntry } from '../lib/cli/log';
import { parseCommand } from '../lib/cli/settings';
import { DEFAULT_RATE_LIMITS } from '../lib/chat/pace';
import { MAX_HISTORY_LINES } from '../lib/chat/state';
import { type Client, connectClient } from './support/client';
import { killAll, listeningPort, start } from './support/chatd';

const sockets: Socket[] = [];

async function client(port: number): Promise<Client> {
  const opened = await connectClient(port);
  sockets.push(opened.socket);
  return opened;
}

/** Flood and send-queue limits lifted, so that one talker can bury a non-reader in lines. */
const UNLIMITED = ['--rate', '1000000', '--burst', '1000000', '--max-send-queue', '1000000000'];

/** Logs in a user who never reads and a talker who sends it 16 MB, more than loopback buffers. */
async function stuffNonReader(port: number): Promise<Client> {
  const stuck = await client(port);
  stuck.say('stuck');
  await stuck.until('chatroom\n');
  stuck.socket.pause();
  const talker = await client(port);
  talker.say('talker');
  await talker.until('*** talker just joined the chatroom\n');
  const lines = Array.from({ length: 4000 }, (_, i) => `${i} ${'.'.repeat(4000)}\n`);
  talker.socket.write(lines.join(''));
  await talker.until(`[talker] ${lines[lines.length - 1]}`);
  return talker;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await killAll();
});

describe('bin/chatd', () => {
  it('starts on --port 0, logs its port and a login, and exits 0 on SIGTERM', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1']);
    const port = await listeningPort(run);
    const ann = await client(port);
    expect(await ann.until('username: ')).toBe("Welcome to Jen's chat server!\nPlease enter your username: ");
    ann.socket.write('ann\n');
    expect(await ann.until('chatroom\n')).toBe('Welcome, ann\n*** ann just joined the chatroom\n');
    await run.waitFor(/^\S+Z login #1 ann$/m);
    run.child.kill('SIGTERM');
    expect(await ann.until('down\n')).toBe('*** server shutting down\n');
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(/^\S+Z connect #1 from 127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^\S+Z SIGTERM: shutting down$/m);
  });

  it('goes on serving when the reader of its log goes away', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1']);
    const port = await listeningPort(run);
    run.child.stdout?.destroy(); // as `chatd | head` does once head has read enough
    for (const name of ['ann', 'bob']) { // each login is logged, to a pipe nobody reads
      const user = await client(port);
      await user.until('username: ');
      user.socket.write(`${name}\n`);
      expect(await user.until('chatroom\n')).toBe(`Welcome, ${name}\n*** ${name} just joined the chatroom\n`);
    }
    expect(run.child.exitCode).toBeNull();
  });

  it('exits 0 on SIGINT with no one connected', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1']);
    await listeningPort(run);
    run.child.kill('SIGINT');
    expect((await run.exited).code).toBe(0);
  });

  it('takes its settings from the environment, flags first', async () => {
    const run = start(['--host', '127.0.0.1'], { CHATD_PORT: '0', CHATD_BANNER: 'hi there' });
    const visitor = await client(await listeningPort(run));
    expect(await visitor.until('username: ')).toBe('hi there\nPlease enter your username: ');
  });

  it('exits 0 within 5 s of SIGTERM even when a user reads nothing', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1', ...UNLIMITED]);
    const port = await listeningPort(run);
    const talker = await stuffNonReader(port);
    const signalledAt = Date.now();
    run.child.kill('SIGTERM');
    expect(await talker.rest()).toBe('*** server shutting down\n');
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalledAt).toBeLessThan(5000);
    expect(stdout).toMatch(/^\S+Z closed$/m);
  });

  it('exits at once on a second signal while the first waits for a non-reader', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1', '--shutdown-grace', '60', ...UNLIMITED]);
    await stuffNonReader(await listeningPort(run));
    run.child.kill('SIGTERM');
    await run.waitFor(/SIGTERM: shutting down\n/);
    run.child.kill('SIGINT');
    const { code, signal, stdout } = await run.exited;
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGINT' });
    expect(stdout).not.toMatch(/closed$/m);
  });

  it('exits 2 with usage on an unknown flag', async () => {
    const { code, stderr } = await start(['--colour']).exited;
    expect(code).toBe(2);
    expect(stderr).toContain('chatd: unknown option --colour\n');
    expect(stderr).toContain('Usage: chatd [options]');
  });

  it('logs one JSON object a line, and no chat text without --log-chat', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1', '--log-format', 'json', '--metrics-listen', '0']);
    const [, port] = await run.waitFor(/"event":"listening","address":"127\.0\.0\.1:(\d+)"/);
    await run.waitFor(/"event":"metrics","url":"http:\/\/127\.0\.0\.1:\d+\/metrics"/);
    const ann = await client(Number(port));
    ann.say('ann');
    ann.say('a secret');
    await ann.until('[ann] a secret\n');
    ann.say('/quit');
    await run.waitFor(/"event":"disconnect".*\n/);
    run.child.kill('SIGTERM');
    const { stdout } = await run.exited;
    const lines = stdout.trim().split('\n').map((line): unknown => JSON.parse(line));
    expect(lines).toContainEqual({ time: expect.stringMatching(/Z$/), level: 'info', event: 'login', id: '1', nick: 'ann' });
    expect(lines).toContainEqual({ time: expect.any(String), level: 'info', event: 'connect', id: '1', from: expect.any(String), tls: false });
    expect(lines).toContainEqual({ time: expect.any(String), level: 'info', event: 'disconnect', id: '1', reason: 'quit' });
    expect(stdout).not.toContain('secret');
  });

  it('logs chat text and /me lines at debug level with --log-chat', async () => {
    const run = start(['--port', '0', '--host', '127.0.0.1', '--log-chat', '--log-level', 'debug']);
    const ann = await client(await listeningPort(run));
    ann.say('ann');
    ann.say('hello there');
    ann.say('/me waves');
    await run.waitFor(/^\S+Z said #1 in #main: hello there$/m);
    await run.waitFor(/^\S+Z acted #1 in #main: waves$/m);
  });

  it('exits 2 on a bad value, from a flag or the environment', async () => {
    expect((await start(['--port', '70000']).exited).stderr).toMatch(/^chatd: --port must be a whole number from 0 to 65535, not '70000'$/m);
    expect((await start([], { CHATD_RATE: 'fast' }).exited).code).toBe(2);
  });

  it('exits 1 with a one-line error when the port is in use', async () => {
    const squatter = createServer();
    squatter.listen(0, '127.0.0.1');
    await once(squatter, 'listening');
    const address = squatter.address();
    if (address === null || typeof address === 'string') throw new Error('TCP only');
    const { port } = address;
    const { code, stderr } = await start(['--host', '127.0.0.1', '--port', String(port)]).exited;
    squatter.close();
    expect(code).toBe(1);
    expect(stderr).toBe(`chatd: port ${port} is already in use\n`);
  });

  it('prints help and version, exiting 0', async () => {
    const help = await start(['--help']).exited;
    expect(help.code).toBe(0);
    expect(help.stdout).toBe(usage());
    const version = await start(['-v']).exited;
    expect(version.stdout).toMatch(/^chatd \d+\.\d+\.\d+\n$/);
  });
});

describe('formatEntry', () => {
  const time = new Date('2025-01-02T03:04:05.678Z');
  const login = logEntry({ kind: 'login', id: '7', nick: 'ann' });

  it('keeps the readable line as text, and writes one JSON object as json', () => {
    expect(formatEntry(login, { format: 'text', level: 'info' }, time)).toBe('2025-01-02T03:04:05.678Z login #7 ann\n');
    expect(formatEntry(login, { format: 'json', level: 'info' }, time))
      .toBe('{"time":"2025-01-02T03:04:05.678Z","level":"info","event":"login","id":"7","nick":"ann"}\n');
  });

  it('leaves out what is less severe than the level', () => {
    const refused = logEntry({ kind: 'full', from: '127.0.0.1:5' });
    expect(formatEntry(login, { format: 'text', level: 'warn' }, time)).toBeUndefined();
    expect(formatEntry(refused, { format: 'text', level: 'warn' }, time)).toBe('2025-01-02T03:04:05.678Z refused 127.0.0.1:5: server full\n');
    expect(formatEntry(logEntry({ kind: 'said', id: '7', room: '#main', text: 'hi' }), { format: 'json', level: 'info' }, time)).toBeUndefined();
  });

  it('logs each operator action with who did it', () => {
    const ban = logEntry({ kind: 'moderation', action: { action: 'ban', by: 'ann', target: 'bob', detail: '10.0.0.2, for good, spam' } });
    expect(formatEntry(ban, { format: 'text', level: 'info' }, time)).toBe('2025-01-02T03:04:05.678Z ban bob by ann (10.0.0.2, for good, spam)\n');
    expect(formatEntry(ban, { format: 'json', level: 'info' }, time))
      .toBe('{"time":"2025-01-02T03:04:05.678Z","level":"info","event":"ban","by":"ann","target":"bob","detail":"10.0.0.2, for good, spam"}\n');
    expect(logEntry({ kind: 'moderation', action: { action: 'motd', by: 'ann', target: '', detail: '' } }).text).toBe('motd by ann');
  });

  it('escapes control characters in every field of a text line, so that no field can start a line of its own', () => {
    const forged = logEntry({ kind: 'rename', id: '7', from: 'ann\n2025-01-02T03:04:05.678Z login #1 root', nick: 'x\x1b[2J\r\u2028\u202e\\n' });
    const line = formatEntry(forged, { format: 'text', level: 'info' }, time);
    expect(line).toBe('2025-01-02T03:04:05.678Z rename #7 ann\\n2025-01-02T03:04:05.678Z login #1 root -> x\\x1b[2J\\r\\u2028\\u202e\\\\n\n');
    expect(line?.split('\n')).toHaveLength(2);
    const said = formatEntry(logEntry({ kind: 'said', id: '7', room: '#main', text: 'tab\there\x85' }), { format: 'text', level: 'debug' }, time);
    expect(said).toBe('2025-01-02T03:04:05.678Z said #7 in #main: tab\\there\\x85\n');
    const json = formatEntry(forged, { format: 'json', level: 'info' }, time) ?? '';
    expect(json.split('\n')).toHaveLength(2);
    expect(JSON.parse(json)).toMatchObject({ from: 'ann\n2025-01-02T03:04:05.678Z login #1 root' });
  });

  it('logs a connection refused for its address\'s limits', () => {
    expect(logEntry({ kind: 'per_address', from: '[2001:db8::1]:5' })).toEqual({
      level: 'warn', event: 'refused', text: 'refused [2001:db8::1]:5: too many connections from its address', fields: { from: '[2001:db8::1]:5', reason: 'per_address' },
    });
    expect(logEntry({ kind: 'connect_rate', from: '10.0.0.2:5' }).text).toBe('refused 10.0.0.2:5: connecting too fast');
  });

  it('writes whether a connection is TLS as a JSON boolean, and a cluster node its id', () => {
    const connect = logEntry({ kind: 'connect', id: '7', from: '127.0.0.1:5', tls: true });
    expect(formatEntry(connect, { format: 'json', level: 'info' }, time)).toBe(
      '{"time":"2025-01-02T03:04:05.678Z","level":"info","event":"connect","id":"7","from":"127.0.0.1:5","tls":true}\n',
    );
    expect(logEntry({ kind: 'node', node: 'c32f9c3c' }).text).toBe('cluster node c32f9c3c: its connections are #c32f9c3c:N');
  });

  it('names why a connection ended, and its error', () => {
    const reset = logEntry({ kind: 'disconnect', id: '7', reason: 'error', error: 'ECONNRESET' });
    expect(reset.text).toBe('disconnect #7 (error: ECONNRESET)');
    expect(reset.fields).toEqual({ id: '7', reason: 'error', error: 'ECONNRESET' });
  });
});

describe('parseCommand', () => {
  it('reads every limit from flags and converts seconds', () => {
    const argv = ['--max-line-bytes', '64', '--login-timeout', '1.5', '--max-name-attempts', '3', '--max-login-bytes', '512', '--max-send-queue', '1000', '--rate', '2',
      '--burst', '3', '--max-queued-lines', '6', '--max-clients', '4', '--keepalive', '5', '--shutdown-grace', '0.5', '--history', '0'];
    expect(parseCommand(argv, {})).toEqual({ kind: 'serve', options: {
      maxLineBytes: 64, loginTimeoutMs: 1500, maxNameAttempts: 3, maxLoginBytes: 512, maxSendQueueBytes: 1000, maxClients: 4, keepAliveIdleMs: 5000, shutdownGraceMs: 500,
      historyLines: 0, rateLimits: { linesPerSecond: 2, burstLines: 3, maxQueuedLines: 6 },
    }, log: DEFAULT_LOG_OPTIONS });
  });

  it('reads --history-bytes, the bytes of history all rooms keep together', () => {
    expect(parseCommand(['--history-bytes', '1048576'], {})).toEqual({ kind: 'serve', options: { historyBytes: 1_048_576 }, log: DEFAULT_LOG_OPTIONS });
    expect(parseCommand([], { CHATD_HISTORY_BYTES: '0' })).toEqual({ kind: 'serve', options: { historyBytes: 0 }, log: DEFAULT_LOG_OPTIONS });
    expect(() => parseCommand(['--history-bytes', '16M'], {})).toThrow("--history-bytes must be a whole number 0 or more, not '16M'");
  });

  it('reads --reply-bytes-per-line into the rate limits, a whole number of bytes from 1', () => {
    expect(parseCommand(['--reply-bytes-per-line', '1024'], {})).toEqual({ kind: 'serve', options: { rateLimits: { ...DEFAULT_RATE_LIMITS, replyBytesPerLine: 1024 } }, log: DEFAULT_LOG_OPTIONS });
    expect(parseCommand(['--rate', '2'], { CHATD_REPLY_BYTES_PER_LINE: '65536' })).toEqual({
      kind: 'serve', options: { rateLimits: { ...DEFAULT_RATE_LIMITS, linesPerSecond: 2, replyBytesPerLine: 65_536 } }, log: DEFAULT_LOG_OPTIONS,
    });
    expect(() => parseCommand(['--reply-bytes-per-line', '0'], {})).toThrow("--reply-bytes-per-line must be a whole number 1 or more, not '0'");
  });

  it('bounds --history from 0 to MAX_HISTORY_LINES', () => {
    expect(parseCommand(['--history', String(MAX_HISTORY_LINES)], {})).toEqual({ kind: 'serve', options: { historyLines: MAX_HISTORY_LINES }, log: DEFAULT_LOG_OPTIONS });
    expect(() => parseCommand(['--history', String(MAX_HISTORY_LINES + 1)], {})).toThrow(`--history must be a whole number from 0 to ${MAX_HISTORY_LINES}`);
    expect(() => parseCommand([], { CHATD_HISTORY: '-1' })).toThrow('--history must be a whole number');
  });

  it('reads --ops as names separated by commas, each by the login rules', () => {
    expect(parseCommand(['--ops', ' ann, bob ,'], {})).toEqual({ kind: 'serve', options: { ops: ['ann', 'bob'] }, log: DEFAULT_LOG_OPTIONS });
    expect(parseCommand([], { CHATD_OPS: 'cat' })).toEqual({ kind: 'serve', options: { ops: ['cat'] }, log: DEFAULT_LOG_OPTIONS });
    expect(() => parseCommand(['--ops', 'ann,b\u043eb'], {})).toThrow("--ops: 'b\u043eb': username must not mix scripts (Latin and Cyrillic)");
  });

  it('reads the limits per address, the addresses they leave alone, and the handshake timeout', () => {
    const argv = ['--max-connections-per-address', '5', '--max-connects-per-second', '0.5', '--connect-burst', '8', '--exempt-addresses', '10.0.0.1, 2001:db8::1', '--handshake-timeout', '2.5'];
    expect(parseCommand(argv, {})).toEqual({ kind: 'serve', options: {
      maxConnectionsPerAddress: 5, maxConnectsPerSecond: 0.5, connectBurst: 8, exemptAddresses: ['10.0.0.1', '2001:db8::1'], handshakeTimeoutMs: 2500,
    }, log: DEFAULT_LOG_OPTIONS });
    expect(parseCommand([], { CHATD_EXEMPT_ADDRESSES: 'none' })).toEqual({ kind: 'serve', options: { exemptAddresses: [] }, log: DEFAULT_LOG_OPTIONS });
    expect(() => parseCommand(['--exempt-addresses', 'localhost'], {})).toThrow("--exempt-addresses: 'localhost' is not an IP address");
    expect(() => parseCommand(['--exempt-addresses', ','], {})).toThrow('--exempt-addresses needs IP addresses, comma-separated, or none');
    expect(() => parseCommand(['--max-connections-per-address', '0'], {})).toThrow('--max-connections-per-address must be a whole number 1 or more');
    expect(() => parseCommand(['--max-connects-per-second', '0'], {})).toThrow('--max-connects-per-second must be a number above 0');
  });

  it('reads the guessing figures: the longest password wait in seconds, the hashes at once from 1 to 64, the free checks', () => {
    expect(parseCommand(['--max-password-wait', '2.5', '--password-checks', '4', '--free-password-checks', '10'], {})).toEqual({
      kind: 'serve', options: { maxPasswordWaitMs: 2500, passwordChecksAtOnce: 4, freePasswordChecks: 10 }, log: DEFAULT_LOG_OPTIONS,
    });
    expect(parseCommand([], { CHATD_MAX_PASSWORD_WAIT: '1', CHATD_PASSWORD_CHECKS: '1' })).toEqual({ kind: 'serve', options: { maxPasswordWaitMs: 1000, passwordChecksAtOnce: 1 }, log: DEFAULT_LOG_OPTIONS });
    expect(() => parseCommand(['--max-password-wait', '0'], {})).toThrow('--max-password-wait must be a number above 0');
    expect(() => parseCommand(['--max-password-wait', '2147484'], {})).toThrow("--max-password-wait must be at most 2147483.647 seconds, not '2147484'");
    expect(() => parseCommand(['--password-checks', '65'], {})).toThrow('--password-checks must be a whole number from 1 to 64');
    expect(() => parseCommand(['--free-password-checks', '0'], {})).toThrow('--free-password-checks must be a whole number from 1 to 1000');
  });

  it('logs once that guessing is slowed, by address or by name', () => {
    expect(logEntry({ kind: 'account', change: { kind: 'slowed', what: 'address', key: '2001:db8::/64' } })).toEqual({
      level: 'warn', event: 'guessing-slowed', text: 'password checks from 2001:db8::/64 are slowed: too many wrong ones lately', fields: { what: 'address', key: '2001:db8::/64' },
    });
    expect(logEntry({ kind: 'account', change: { kind: 'slowed', what: 'name', key: 'ann' } }).text).toBe('password checks of name ann are slowed: too many wrong ones lately');
  });

  it('lets a flag win over its environment variable', () => {
    expect(parseCommand(['--port', '1'], { CHATD_PORT: '2', CHATD_HOST: '::1' })).toEqual({ kind: 'serve', options: { port: 1, host: '::1' }, log: DEFAULT_LOG_OPTIONS });
  });

  it('reads the metrics address, a port alone on loopback, and the log settings', () => {
    const read = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const command = parseCommand(argv, env);
      return command.kind === 'serve' ? command : undefined;
    };
    expect(read(['--metrics-listen', '9100'])?.options.metricsListen).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(read(['--metrics-listen', '0.0.0.0:9100'])?.options.metricsListen).toEqual({ host: '0.0.0.0', port: 9100 });
    expect(read(['--metrics-listen', '[::1]:0'])?.options.metricsListen).toEqual({ host: '::1', port: 0 });
    expect(read(['--log-chat', '--log-format', 'json'], { CHATD_LOG_LEVEL: 'debug' })).toEqual({
      kind: 'serve', options: { logChat: true }, log: { format: 'json', level: 'debug' },
    });
    expect(read([], { CHATD_LOG_CHAT: '0' })?.options).toEqual({ logChat: false });
  });

  it('refuses a bad metrics address, log format, log level or log-chat variable', () => {
    const bad: [string[], NodeJS.ProcessEnv, string][] = [
      [['--metrics-listen', 'localhost'], {}, "--metrics-listen must be HOST:PORT or PORT, not 'localhost'"],
      [['--metrics-listen', 'host:99999'], {}, "--metrics-listen must be a whole number from 0 to 65535, not '99999'"],
      [['--log-format', 'xml'], {}, "--log-format must be one of text, json, not 'xml'"],
      [['--log-level', 'loud'], {}, "--log-level must be one of error, warn, info, debug, not 'loud'"],
      [[], { CHATD_LOG_CHAT: 'yes please' }, "--log-chat is on or off: its variable is 1, true, 0 or false, not 'yes please'"],
    ];
    for (const [argv, env, message] of bad) expect(() => parseCommand(argv, env)).toThrow(message);
  });

  it('refuses in its own words what the parser would have quoted or let through', () => {
    const bad: [string[], NodeJS.ProcessEnv, string][] = [
      [['--history', '-1'], {}, "--history must be a whole number from 0 to 1000, not '-1'"],
      [['--port', '-1'], {}, "--port must be a whole number from 0 to 65535, not '-1'"],
      [['--history'], {}, '--history needs a value: --history <lines>'],
      [['--bogus'], {}, 'unknown option --bogus'],
      [['stray'], {}, "unexpected argument 'stray'"],
      [['--keepalive', '0'], {}, "--keepalive must be a whole number from 1 to 32767, not '0'"],
      [['--max-clients', '0'], {}, "--max-clients must be a whole number 1 or more, not '0'"],
      [['--port', '7125', '--tls-port', '7125', '--tls-cert', 'c', '--tls-key', 'k'], {}, '--port and --tls-port are the same port, 7125: give each its own'],
      [['--tls-port', '6677', '--tls-cert', 'c', '--tls-key', 'k'], {}, '--port and --tls-port are the same port, 6677'],
      [['--redis-prefix='], {}, '--redis-prefix must not be empty'],
      [['--ops', ',,'], {}, "--ops must name someone: registered names, comma-separated, not ',,'"],
      [['--host', ''], {}, '--host must not be empty'],
    ];
    for (const [argv, env, message] of bad) expect(() => parseCommand(argv, env)).toThrow(message);
  });

  it('takes a value after "=", one that starts with a dash, and an empty variable as unset', () => {
    const read = (argv: string[], env: NodeJS.ProcessEnv = {}) => {
      const command = parseCommand(argv, env);
      return command.kind === 'serve' ? command.options : undefined;
    };
    expect(read(['--banner=-- hi --', '--port=0'])).toEqual({ banner: '-- hi --', port: 0 });
    expect(read(['--banner', '-v'])).toEqual({ banner: '-v' });
    expect(read(['--log-chat=0'])).toEqual({ logChat: false });
    expect(read([], { CHATD_OPS: '', CHATD_REDIS_PREFIX: '' })).toEqual({});
    expect(parseCommand(['--port', '1', '-h'], {})).toEqual({ kind: 'help' });
  });

  it('documents every flag with what its value is and its environment variable in --help', () => {
    const help = usage().replace(/\n {2,}(?=[^ -])/g, ' '); // a description's lines joined
    const flags: [string, string][] = [
      ['host', '<host>'], ['port', '<port>'], ['banner', '<text>'], ['max-line-bytes', '<bytes>'], ['login-timeout', '<seconds>'], ['max-name-attempts', '<n>'],
      ['max-login-bytes', '<bytes>'], ['max-send-queue', '<bytes>'], ['rate', '<lines>'], ['burst', '<lines>'], ['max-queued-lines', '<lines>'], ['max-clients', '<n>'],
      ['keepalive', '<seconds>'], ['history', '<lines>'], ['shutdown-grace', '<seconds>'], ['metrics-listen', '<host:port>'], ['ops', '<names>'],
      ['log-format', '<format>'], ['log-level', '<level>'], ['data-dir', '<dir>'], ['tls-cert', '<file>'], ['redis', '<url>'], ['log-chat', ''],
      ['reply-bytes-per-line', '<bytes>'], ['max-connections-per-address', '<n>'], ['max-connects-per-second', '<n>'], ['connect-burst', '<n>'],
      ['exempt-addresses', '<ips>'], ['handshake-timeout', '<seconds>'], ['history-bytes', '<bytes>'],
      ['max-password-wait', '<seconds>'], ['free-password-checks', '<n>'], ['password-checks', '<n>'],
      ['max-registrations-per-hour', '<n>'], ['account-expiry-days', '<days>'],
    ];
    for (const [flag, value] of flags) {
      expect(help).toMatch(new RegExp(`--${flag}${value === '' ? '' : ` ${value}`} .*\\(env CHATD_${flag.toUpperCase().replace(/-/g, '_')}, default `));
    }
  });

  it('fits --help in 100 columns, every description in one column beside the flags', () => {
    const rows = (usage().split('\n\n')[2] ?? '').split('\n').filter((line) => line.startsWith('  ')); // the options, after the usage lines and the description
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(HELP_COLUMNS);
    // A flag's row has its description after two spaces or more; a continued one, spaces alone before it.
    const starts = rows.map((row) => (row.startsWith('  -') ? row.search(/(?<=\S {2,})\S/) : row.search(/\S/)));
    expect(new Set(starts).size).toBe(1);
  });

});
