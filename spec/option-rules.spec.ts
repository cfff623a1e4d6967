import { MAX_HISTORY_LINES } from '../lib/chat/state';
import { MAX_TIMER_MS, serverOptions } from '../lib/option-rules';
import { createChatServer } from '../lib/server';
import { type ChatServerOptions, DEFAULT_SERVER_OPTIONS, MAX_KEEPALIVE_IDLE_MS } from '../lib/server-options';
import { DEFAULT_WEB_SETTINGS } from '../lib/edge/web/door';

/** For every option a value it must refuse, and what its TypeError says: a new option needs a row. */
const BAD: { readonly [K in keyof ChatServerOptions]-?: readonly [unknown, string] } = {
  banner: [42, 'options.banner must be a string, not 42'],
  maxLineBytes: [0, 'options.maxLineBytes must be a whole number, 1 or more, not 0'],
  loginTimeoutMs: [Infinity, `options.loginTimeoutMs must be a number of milliseconds above 0, at most ${MAX_TIMER_MS}, not Infinity`],
  maxNameAttempts: [2.5, 'options.maxNameAttempts must be a whole number, 1 or more, not 2.5'],
  maxLoginBytes: ['4096', 'options.maxLoginBytes must be a whole number, 1 or more, not "4096"'],
  rateLimits: [{ linesPerSecond: 5, burstLines: 10 }, 'options.rateLimits.maxQueuedLines must be a whole number, 0 or more, not undefined'],
  requireTlsForPasswords: ['yes', 'options.requireTlsForPasswords must be true or false, not "yes"'],
  historyLines: [MAX_HISTORY_LINES + 1, `options.historyLines must be a whole number from 0 to ${MAX_HISTORY_LINES}, not ${MAX_HISTORY_LINES + 1}`],
  historyBytes: [-1, 'options.historyBytes must be a whole number, 0 or more, not -1'],
  host: ['', 'options.host must be a non-empty string, not ""'],
  port: [65536, "options.port must be a port (a whole number from 0 to 65535) or 'off', not 65536"],
  tls: [{ port: 6697, certFile: 'cert.pem' }, 'options.tls.keyFile must be a non-empty string, not undefined'],
  ssh: [{ port: 2022, hostKeyFile: '' }, 'options.ssh.hostKeyFile must be a non-empty string, not ""'],
  web: [{ ...DEFAULT_WEB_SETTINGS, port: 8080, trustProxy: ['10.0.0.0/33'] }, 'options.web.trustProxy[0] must be an address or a CIDR block, not "10.0.0.0/33"'],
  maxClients: [null, 'options.maxClients must be a whole number, 1 or more, not null'],
  maxConnectionsPerAddress: [0, 'options.maxConnectionsPerAddress must be a whole number, 1 or more, not 0'],
  maxConnectsPerSecond: [NaN, 'options.maxConnectsPerSecond must be a number of connections above 0, not NaN'],
  connectBurst: [-5, 'options.connectBurst must be a whole number, 1 or more, not -5'],
  exemptAddresses: [['127.0.0.1', 'localhost'], 'options.exemptAddresses[1] must be an IP address, not "localhost"'],
  handshakeTimeoutMs: [0, `options.handshakeTimeoutMs must be a number of milliseconds above 0, at most ${MAX_TIMER_MS}, not 0`],
  maxSendQueueBytes: [1e300, 'options.maxSendQueueBytes must be a whole number, 1 or more, not 1e+300'],
  keepAliveIdleMs: [MAX_KEEPALIVE_IDLE_MS + 1, `options.keepAliveIdleMs must be a number of milliseconds from 0 to ${MAX_KEEPALIVE_IDLE_MS}, not ${MAX_KEEPALIVE_IDLE_MS + 1}`],
  shutdownGraceMs: [MAX_TIMER_MS + 1, `options.shutdownGraceMs must be a number of milliseconds above 0, at most ${MAX_TIMER_MS}, not ${MAX_TIMER_MS + 1}`],
  metricsListen: [9100, 'options.metricsListen must be { host, port } or undefined, not 9100'],
  logChat: [1, 'options.logChat must be true or false, not 1'],
  dataDir: [['./data'], 'options.dataDir must be a non-empty string, not an array'],
  ops: [['ann', 'b\u043eb'], 'options.ops[1] must be a username, not "b\u043eb" (username must not mix scripts (Latin and Cyrillic))'],
  maxPasswordWaitMs: [-1, `options.maxPasswordWaitMs must be a number of milliseconds above 0, at most ${MAX_TIMER_MS}, not -1`],
  passwordChecksAtOnce: [0, 'options.passwordChecksAtOnce must be a whole number, 1 or more, not 0'],
  freePasswordChecks: [true, 'options.freePasswordChecks must be a whole number, 1 or more, not true'],
  maxRegistrationsPerHour: [0.5, 'options.maxRegistrationsPerHour must be a whole number, 0 or more, not 0.5'],
  accountExpiryMs: [-Infinity, 'options.accountExpiryMs must be a number of milliseconds above 0, not -Infinity'],
  onEvent: [{}, 'options.onEvent must be a function, not an object'],
  redis: ['http://redis.example:6379', "options.redis must be a Redis URL (redis://... or rediss://...) or a unix socket's path, not \"http://redis.example:6379\""],
  redisPrefix: [undefined, 'options.redisPrefix must be a string, not undefined'],
};

describe('serverOptions', () => {
  it.each(Object.entries(BAD))('refuses a bad %s with a TypeError that names it and says what it must be', (key, [value, message]) => {
    expect(() => serverOptions({ [key]: value })).toThrow(new TypeError(message));
  });

  it('takes the defaults, given or not, and the values the CLI can give', () => {
    expect(serverOptions({})).toEqual(DEFAULT_SERVER_OPTIONS);
    expect(serverOptions({ ...DEFAULT_SERVER_OPTIONS })).toEqual(DEFAULT_SERVER_OPTIONS);
    const given: Partial<ChatServerOptions> = {
      port: 'off', tls: { port: 0, certFile: 'cert.pem', keyFile: 'key.pem' }, host: '::1', metricsListen: { host: '127.0.0.1', port: 0 },
      rateLimits: { linesPerSecond: 0.5, burstLines: 1, maxQueuedLines: 0, replyBytesPerLine: 0 }, historyLines: 0, keepAliveIdleMs: 0,
      exemptAddresses: [], ops: ['ann'], dataDir: './data', redis: '/run/redis.sock', redisPrefix: '', accountExpiryMs: 1,
      web: { ...DEFAULT_WEB_SETTINGS, port: 8080, tls: { port: 8443, certFile: 'cert.pem', keyFile: 'key.pem' }, origins: ['https://chat.example.org'], trustProxy: ['10.0.0.0/8', '::1'] },
    };
    expect(serverOptions(given)).toEqual({ ...DEFAULT_SERVER_OPTIONS, ...given });
    expect(serverOptions({ redis: 'rediss://:secret@redis.example:6380/2' }).redis).toBe('rediss://:secret@redis.example:6380/2');
  });

  it('refuses what is not an object of options, an unknown option, and a server that would listen nowhere', () => {
    expect(() => serverOptions(6677)).toThrow(new TypeError("createChatServer's options must be an object, not 6677"));
    expect(() => serverOptions(null)).toThrow(new TypeError("createChatServer's options must be an object, not null"));
    expect(() => serverOptions({ prot: 6677 })).toThrow(new TypeError('options.prot is not an option of createChatServer'));
    expect(() => serverOptions({ port: 'off' })).toThrow(new TypeError("options.port is 'off' and options.tls, options.web and options.ssh are undefined: nothing would listen"));
    expect(serverOptions({ port: 'off', web: { ...DEFAULT_WEB_SETTINGS, port: 0 } }).port).toBe('off');
  });
});

describe('createChatServer', () => {
  it('throws the TypeError at once, before it binds anything', () => {
    expect(() => createChatServer({ port: 70_000 })).toThrow(new TypeError("options.port must be a port (a whole number from 0 to 65535) or 'off', not 70000"));
    expect(() => createChatServer({ maxClients: 0 })).toThrow(TypeError);
  });
});
