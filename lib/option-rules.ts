import { isIP } from 'node:net';
import { isRecord } from './chat/is-record';
import { nameProblem } from './chat/names';
import { MAX_HISTORY_LINES } from './chat/state';
import { isProxyEntry } from './edge/web/proxy';
import { type ChatServerOptions, DEFAULT_SERVER_OPTIONS, MAX_KEEPALIVE_IDLE_MS } from './server-options';

/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** What is wrong with an option's value, as the TypeError says it (naming it `name`), or undefined when nothing is. */
type Check = (value: unknown, name: string) => string | undefined;

/** A value as an error message shows it: enough to find it in the caller's code. */
function shown(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object' && value !== null) return 'an object';
  return String(value);
}

const must = (what: string, holds: (value: unknown) => boolean): Check => (value, name) =>
  (holds(value) ? undefined : `${name} must be ${what}, not ${shown(value)}`);

const whole = (min: number, max = Number.MAX_SAFE_INTEGER): Check =>
  must(max === Number.MAX_SAFE_INTEGER ? `a whole number, ${min} or more` : `a whole number from ${min} to ${max}`,
    (value) => Number.isSafeInteger(value) && typeof value === 'number' && value >= min && value <= max);

const above0 = (what: string, max = Number.MAX_VALUE): Check =>
  must(max === Number.MAX_VALUE ? `${what} above 0` : `${what} above 0, at most ${max}`,
    (value) => typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= max);

/** A delay a timer waits: above 0, at most what a Node timer keeps. */
const delayMs = above0('a number of milliseconds', MAX_TIMER_MS);
const isPort = (value: unknown) => Number.isSafeInteger(value) && typeof value === 'number' && value >= 0 && value <= 65535;
const port = must('a port, a whole number from 0 to 65535', isPort);
const text = must('a string', (value) => typeof value === 'string');
const filled = must('a non-empty string', (value) => typeof value === 'string' && value !== '');
const flag = must('true or false', (value) => typeof value === 'boolean');

/** `check`, or undefined. */
const orUndefined = (check: Check): Check => (value, name) => (value === undefined ? undefined : check(value, name));

/** An object (`what`), each of whose fields keeps its check. */
const fields = (what: string, checks: Readonly<Record<string, Check>>): Check => (value, name) => {
  if (!isRecord(value)) return `${name} must be ${what}, not ${shown(value)}`;
  for (const [key, check] of Object.entries(checks)) {
    const problem = check(value[key], `${name}.${key}`);
    if (problem !== undefined) return problem;
  }
  return undefined;
};

/** An array whose every item keeps `check`. */
const every = (what: string, check: Check): Check => (value, name) => {
  if (!Array.isArray(value)) return `${name} must be ${what}, not ${shown(value)}`;
  for (const [at, item] of value.entries()) {
    const problem = check(item, `${name}[${at}]`);
    if (problem !== undefined) return problem;
  }
  return undefined;
};

const username: Check = (value, name) => {
  if (typeof value !== 'string') return `${name} must be a username, not ${shown(value)}`;
  const problem = nameProblem(value);
  return problem === undefined ? undefined : `${name} must be a username, not ${shown(value)} (${problem})`;
};

/** A check for every option: a new option without one does not compile. */
const RULES: { readonly [K in keyof ChatServerOptions]-?: Check } = {
  banner: text,
  maxLineBytes: whole(1),
  loginTimeoutMs: delayMs,
  maxNameAttempts: whole(1),
  maxLoginBytes: whole(1),
  rateLimits: fields('{ linesPerSecond, burstLines, maxQueuedLines, replyBytesPerLine? }', {
    linesPerSecond: above0('a number of lines'),
    burstLines: whole(1),
    maxQueuedLines: whole(0),
    replyBytesPerLine: orUndefined(whole(0)),
  }),
  requireTlsForPasswords: flag,
  historyLines: whole(0, MAX_HISTORY_LINES),
  historyBytes: whole(0),
  host: orUndefined(filled),
  port: must("a port (a whole number from 0 to 65535) or 'off'", (value) => value === 'off' || isPort(value)),
  tls: orUndefined(fields('{ port, certFile, keyFile } or undefined', { port, certFile: filled, keyFile: filled })),
  ssh: orUndefined(fields('{ port, hostKey?, hostKeyFile? } or undefined', {
    port,
    hostKey: orUndefined(must('a private key (a string or a Buffer)', (value) => typeof value === 'string' || Buffer.isBuffer(value))),
    hostKeyFile: orUndefined(filled),
  })),
  web: orUndefined(fields('{ port, tls, origins, trustProxy, pingIntervalMs } or undefined', {
    port: orUndefined(port),
    tls: orUndefined(fields('{ port, certFile, keyFile } or undefined', { port, certFile: filled, keyFile: filled })),
    origins: every('a list of origins', filled),
    trustProxy: every('a list of addresses and CIDR blocks', must('an address or a CIDR block', (value) => typeof value === 'string' && isProxyEntry(value))),
    pingIntervalMs: delayMs,
  })),
  maxClients: whole(1),
  maxConnectionsPerAddress: whole(1),
  maxConnectsPerSecond: above0('a number of connections'),
  connectBurst: whole(1),
  exemptAddresses: every('a list of IP addresses', must('an IP address', (value) => typeof value === 'string' && isIP(value) !== 0)),
  handshakeTimeoutMs: delayMs,
  maxSendQueueBytes: whole(1),
  keepAliveIdleMs: must(`a number of milliseconds from 0 to ${MAX_KEEPALIVE_IDLE_MS}`,
    (value) => typeof value === 'number' && value >= 0 && value <= MAX_KEEPALIVE_IDLE_MS),
  shutdownGraceMs: delayMs,
  metricsListen: orUndefined(fields('{ host, port } or undefined', { host: filled, port })),
  logChat: flag,
  dataDir: orUndefined(filled),
  ops: every('a list of usernames', username),
  maxPasswordWaitMs: delayMs,
  passwordChecksAtOnce: whole(1),
  freePasswordChecks: whole(1),
  maxRegistrationsPerHour: whole(0),
  accountExpiryMs: above0('a number of milliseconds'),
  onEvent: must('a function', (value) => typeof value === 'function'),
  redis: orUndefined(must("a Redis URL (redis://... or rediss://...) or a unix socket's path",
    (value) => typeof value === 'string' && value !== '' && (/^rediss?:\/\/./i.test(value) || !value.includes('://')))),
  redisPrefix: text,
};

/** The first problem of `options`, or undefined; none means every option is what it must be. */
function problemOf(options: Readonly<Record<string, unknown>>): string | undefined {
  for (const [key, check] of Object.entries(RULES)) {
    const problem = check(options[key], `options.${key}`);
    if (problem !== undefined) return problem;
  }
  if (options['port'] === 'off' && options['tls'] === undefined && options['web'] === undefined && options['ssh'] === undefined) {
    return "options.port is 'off' and options.tls, options.web and options.ssh are undefined: nothing would listen";
  }
  return undefined;
}

/** True when `options` keeps every rule: then it is ChatServerOptions, each checked above. */
const keepsRules = (options: Readonly<Record<string, unknown>>): options is ChatServerOptions & Readonly<Record<string, unknown>> =>
  problemOf(options) === undefined;

/**
 * `overrides` over DEFAULT_SERVER_OPTIONS, checked: a TypeError names the first option that is
 * unknown or not what it must be, so that a typo fails at once rather than when a user connects.
 * Takes `unknown`: a caller in JavaScript has no compiler to check its options.
 */
export function serverOptions(overrides: unknown): ChatServerOptions {
  if (!isRecord(overrides)) throw new TypeError(`createChatServer's options must be an object, not ${shown(overrides)}`);
  const unknown = Object.keys(overrides).find((key) => !Object.hasOwn(RULES, key));
  if (unknown !== undefined) throw new TypeError(`options.${unknown} is not an option of createChatServer`);
  const options: Readonly<Record<string, unknown>> = { ...DEFAULT_SERVER_OPTIONS, ...overrides };
  if (!keepsRules(options)) throw new TypeError(problemOf(options));
  return options;
}
