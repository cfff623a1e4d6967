/**
 * Child process: the load generator. Opens the users' sockets on loopback, logs them in, drives
 * the senders and checks every line each receiver reads: who sent it, in which order, and how
 * long it took. Alone in its process so that its CPU time is its own.
 *
 * A sender writes `SEQ SENTAT PADDING`; the server relays it as `[uS] SEQ SENTAT PADDING`.
 * SENTAT is this process's clock in microseconds: it both sends and receives, so no clocks need
 * to agree.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  isMessage,
  type Latency,
  type LoadResult,
  type LoadSpec,
  type LoginResult,
  type LoginSpec,
  type MessageType,
  type Messages,
  sendToParent,
} from './wire';

const NEWLINE = 0x0a;
const SPACE = 0x20;
const HASH = 0x23;
const ZERO = 0x30;
const NINE = 0x39;
const OPEN = 0x5b;
const CLOSE = 0x5d;
const LETTER_U = 0x75;

/** Lines of one sender in flight at once, at most; a power of two, for the ring of counters. */
const RING_LINES = 1 << 16;
const RING_MASK = RING_LINES - 1;
/** What a user may receive before its welcome; more means the server said something else. */
const MAX_GREETING_CHARS = 4096;
const MAX_ERROR_EXAMPLES = 5;
const LATENCY_BUCKET_US = 10;
const LATENCY_BUCKETS = 100_000; // one second at 10 µs; slower lines are kept one by one

const nowUs = (): number => Math.round(performance.now() * 1000);

/** Send-to-receipt latencies: 10 µs buckets up to a second, exact values above it. */
class LatencyRecorder {
  private readonly buckets = new Uint32Array(LATENCY_BUCKETS);
  private readonly slow: number[] = [];
  private count = 0;
  private maxUs = 0;

  record(us: number): void {
    const bucket = Math.floor(Math.max(0, us) / LATENCY_BUCKET_US);
    if (bucket < LATENCY_BUCKETS) this.buckets[bucket] = (this.buckets[bucket] ?? 0) + 1;
    else this.slow.push(us);
    this.count += 1;
    if (us > this.maxUs) this.maxUs = us;
  }

  summary(): Latency {
    this.slow.sort((a, b) => a - b);
    return { p50: this.percentileMs(0.5), p99: this.percentileMs(0.99), max: this.maxUs / 1000, count: this.count };
  }

  private percentileMs(fraction: number): number {
    const rank = Math.max(1, Math.ceil(fraction * this.count));
    let seen = 0;
    for (let bucket = 0; bucket < LATENCY_BUCKETS; bucket += 1) {
      seen += this.buckets[bucket] ?? 0;
      if (seen >= rank) return ((bucket + 0.5) * LATENCY_BUCKET_US) / 1000;
    }
    return (this.slow[rank - seen - 1] ?? this.maxUs) / 1000;
  }
}

interface User {
  readonly index: number;
  readonly name: string;
  /** Which of the ports it logged in on. */
  readonly node: number;
  readonly socket: Socket;
  /** Counted users must read every line; the slow reader is not counted. */
  readonly counted: boolean;
  loggedIn: boolean;
  greeting: string;
  /** The unfinished line at the end of the last chunk. */
  carry: Buffer | undefined;
  /** Per sender, the sequence number this user reads next. */
  expected: Int32Array;
  syncs: number;
  /** False while the slow reader is not reading. */
  reading: boolean;
  closed: boolean;
}

/** What every line sent and read so far adds up to; lives as long as the users do. */
interface Ledger {
  readonly senders: readonly User[];
  readonly receivers: number;
  /** Per sender: lines written, and the oldest line some receiver has not read yet. */
  readonly sent: Int32Array;
  readonly oldest: Int32Array;
  /** Per sender, a ring: how many receivers have still to read each line in flight. */
  readonly pending: readonly Int32Array[];
}

/** What the current load phase counts. */
interface Phase {
  readonly spec: LoadSpec;
  readonly padding: string;
  running: boolean;
  measuring: boolean;
  /**
   * The measured window by send time, in µs: a line sent in it has its latency counted whenever
   * it comes, in the drain too, so a server that stalls cannot hide its slowest lines.
   */
  windowFromUs: number;
  windowToUs: number;
  delivered: number;
  sentInWindow: number;
  orderErrors: number;
  readonly latency: LatencyRecorder;
  readonly crossLatency: LatencyRecorder;
}

const users: User[] = [];
let ledger: Ledger | undefined;
let phase: Phase | undefined;
let slowReader: User | undefined;
let syncWanted = 0;
let onSynced: (() => void) | undefined;
/** Set while a phase waits for its last lines: called when a sender's oldest line is read by all. */
let onAdvanced: (() => void) | undefined;
const errorExamples: string[] = [];
let failed = false;

/** Reports a broken run once; the orchestrator then stops everything. */
function fail(message: string): void {
  if (failed) return;
  failed = true;
  onAdvanced?.(); // a phase waiting for its last lines stops waiting
  sendToParent<'failed'>({ type: 'failed', message });
}

function noteError(message: string): void {
  if (errorExamples.length < MAX_ERROR_EXAMPLES) errorExamples.push(message);
}

// Where the digit reader stopped; a module variable so the hot path allocates nothing.
let cursor = 0;

function readNumber(data: Buffer, stop: number): number {
  let value = 0;
  const start = cursor;
  for (let byte = data[cursor] ?? -1; cursor < stop && byte >= ZERO && byte <= NINE; byte = data[++cursor] ?? -1) {
    value = value * 10 + byte - ZERO;
  }
  return cursor === start ? -1 : value;
}

function advance(book: Ledger, sender: number): void {
  const ring = book.pending[sender];
  if (ring === undefined) return;
  let oldest = book.oldest[sender] ?? 0;
  const sent = book.sent[sender] ?? 0;
  while (oldest < sent && ring[oldest & RING_MASK] === 0) oldest += 1;
  book.oldest[sender] = oldest;
  if (phase?.running === true && phase.spec.mode === 'saturate') pump(book, sender, phase);
  onAdvanced?.();
}

function delivered(user: User, sender: number, seq: number, sentAtUs: number, atUs: number): void {
  const book = ledger;
  const ring = book?.pending[sender];
  if (book === undefined || ring === undefined || !user.counted) return;
  const expected = user.expected[sender] ?? 0;
  if (seq !== expected) {
    if (phase !== undefined) phase.orderErrors += 1;
    noteError(`${user.name} read line ${seq} of u${sender} when line ${expected} was due`);
    if (seq < expected) return; // a duplicate: the line was already counted
  }
  user.expected[sender] = seq + 1;
  const slot = seq & RING_MASK;
  const left = (ring[slot] ?? 0) - 1;
  ring[slot] = left;
  if (phase?.measuring === true) phase.delivered += 1;
  if (phase !== undefined && sentAtUs >= phase.windowFromUs && sentAtUs < phase.windowToUs) {
    phase.latency.record(atUs - sentAtUs);
    if (book.senders[sender]?.node !== user.node) phase.crossLatency.record(atUs - sentAtUs);
  }
  if (left === 0 && seq === book.oldest[sender]) advance(book, sender);
}

function synced(user: User): void {
  if (!user.counted) return;
  user.syncs += 1;
  if (user.syncs === 1 && --syncWanted === 0) onSynced?.();
}

/** One relayed line, `[uS] SEQ SENTAT PADDING` or `[u0] #sync`, between start and the newline. */
function readLine(user: User, data: Buffer, start: number, newline: number, atUs: number): void {
  if (data[start] !== OPEN) return; // a notice: someone joined or left
  cursor = start + 2;
  const sender = data[start + 1] === LETTER_U ? readNumber(data, newline) : -1;
  if (sender < 0 || data[cursor] !== CLOSE || data[cursor + 1] !== SPACE) {
    noteError(`${user.name} read a malformed line: ${data.toString('latin1', start, newline)}`);
    if (phase !== undefined) phase.orderErrors += 1;
    return;
  }
  cursor += 2;
  if (data[cursor] === HASH) return synced(user);
  const seq = readNumber(data, newline);
  cursor += 1;
  const sentAtUs = readNumber(data, newline);
  if (sender >= (ledger?.senders.length ?? 0) || seq < 0 || sentAtUs < 0) {
    noteError(`${user.name} read an unexpected line: ${data.toString('latin1', start, newline)}`);
    if (phase !== undefined) phase.orderErrors += 1;
    return;
  }
  delivered(user, sender, seq, sentAtUs, atUs);
}

/** A logged-in user's input: whole lines are read, the unfinished rest is carried over. */
function receive(user: User, chunk: Buffer): void {
  const data = user.carry === undefined ? chunk : Buffer.concat([user.carry, chunk]);
  const end = data.lastIndexOf(NEWLINE);
  // Copied: the chunk is the shared read buffer, overwritten by the next read.
  user.carry = end + 1 < data.length ? Buffer.from(data.subarray(end + 1)) : undefined;
  const firstRelayed = data.indexOf(OPEN);
  if (firstRelayed === -1 || firstRelayed > end) return; // only notices: joins, mostly
  const atUs = nowUs();
  for (let start = data.lastIndexOf(NEWLINE, firstRelayed) + 1; start <= end; ) {
    const newline = data.indexOf(NEWLINE, start);
    readLine(user, data, start, newline, atUs);
    start = newline + 1;
  }
}

/** The bytes before a user's welcome; resolves `welcomed` once it has come. */
function greet(user: User, chunk: Buffer, welcomed: () => void): void {
  user.greeting += chunk.toString('latin1');
  const welcome = `Welcome, ${user.name}\n`;
  const at = user.greeting.indexOf(welcome);
  if (at === -1) {
    if (user.greeting.length > MAX_GREETING_CHARS) fail(`${user.name} was not welcomed: ${JSON.stringify(user.greeting.slice(0, 200))}`);
    return;
  }
  const rest = user.greeting.slice(at + welcome.length);
  user.loggedIn = true;
  user.greeting = '';
  welcomed();
  if (!user.counted) user.reading = false; // the slow reader: from its welcome on it reads nothing
  else if (rest.length > 0) receive(user, Buffer.from(rest, 'latin1'));
}

// Every socket reads into this one buffer, which each read's callback is done with before the
// next read: a stream's per-read Buffer and 'data' event would make the generator the bottleneck.
const readBuffer = Buffer.allocUnsafe(256 * 1024);

/** Connects one user and sends its name; resolves once the server has welcomed it. */
function logInUser(ports: readonly number[], index: number, counted: boolean, senders: number): Promise<User> {
  const node = index % ports.length;
  const port = ports[node] ?? 0;
  return new Promise<User>((resolve) => {
    const onRead = (length: number): boolean => {
      const chunk = readBuffer.subarray(0, length);
      if (user.loggedIn) receive(user, chunk);
      else greet(user, chunk, () => resolve(user));
      return user.reading; // false pauses the socket
    };
    const socket = connect({ port, host: '127.0.0.1', noDelay: true, onread: { buffer: readBuffer, callback: onRead } });
    const user: User = {
      index, name: `u${index}`, node, socket, counted, loggedIn: false, greeting: '', carry: undefined,
      expected: new Int32Array(senders), syncs: 0, reading: true, closed: false,
    };
    socket.on('error', (err) => noteError(`${user.name}: ${err.message}`)); // 'close' follows
    socket.once('close', () => {
      user.closed = true;
      if (counted) fail(`the server closed ${user.name}'s connection${user.loggedIn ? '' : ' before welcoming it'}: ${errorExamples.join('; ')}`);
    });
    socket.write(`${user.name}\n`); // the server reads it after its prompt, like a fast typist's
  });
}

async function within<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  const abort = new AbortController();
  const late = sleep(timeoutMs, undefined, { signal: abort.signal }).then(() => {
    throw new Error(`${what} took over ${timeoutMs} ms`);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    abort.abort();
  }
}

/** Resolves once every counted user has read a `#sync` line from u0, so nothing is in flight. */
async function sync(timeoutMs: number): Promise<void> {
  const first = users[0];
  if (first === undefined) throw new Error('no users to sync');
  syncWanted = users.filter((user) => user.counted).length;
  const done = new Promise<void>((resolve) => (onSynced = resolve));
  first.socket.write('#sync\n');
  await within(done, timeoutMs, 'reading the sync line');
}

/**
 * Lets the slow reader read its backlog: a connection the server ended shows its end only after
 * that. Resolves true once it closes; false if it keeps quiet for a while instead, still open.
 */
async function checkSlowReader(): Promise<boolean> {
  const user = slowReader;
  if (user === undefined) throw new Error('there is no slow reader');
  const quietMs = 300;
  let lastRead = user.socket.bytesRead;
  user.reading = true;
  user.socket.resume();
  for (let waited = 0; !user.closed && waited < 10_000; waited += quietMs) {
    await sleep(quietMs);
    if (user.socket.bytesRead === lastRead) break;
    lastRead = user.socket.bytesRead;
  }
  return user.closed;
}

function makeLedger(senders: number, receivers: number): Ledger {
  const list = users.slice(0, senders);
  return {
    senders: list,
    receivers,
    sent: new Int32Array(senders),
    oldest: new Int32Array(senders),
    pending: list.map(() => new Int32Array(RING_LINES)),
  };
}

async function logIn(spec: LoginSpec): Promise<LoginResult> {
  if (users.length > 0) throw new Error('users are logged in already');
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < spec.users) await logInUser(spec.ports, next++, true, spec.senders).then((user) => users.push(user));
  };
  const workers = Array.from({ length: Math.min(spec.concurrency, spec.users) }, worker);
  await within(Promise.all(workers), spec.timeoutMs, `logging in ${spec.users} users`);
  users.sort((a, b) => a.index - b.index);
  const loggedIn = performance.now();
  await sync(spec.timeoutMs);
  const settled = performance.now();
  ledger = makeLedger(spec.senders, spec.users);
  const cpu = process.cpuUsage(cpuBefore);
  return {
    loginMs: loggedIn - started,
    settleMs: settled - loggedIn,
    generatorCpuPercent: ((cpu.user + cpu.system) / 1000 / (settled - started)) * 100,
  };
}

async function addSlowReader(): Promise<void> {
  const port = users[0]?.socket.remotePort;
  if (port === undefined) throw new Error('log the others in first');
  slowReader = await within(logInUser([port], users.length, false, 0), 10_000, 'logging in the slow reader');
}

/** Writes `count` lines of one sender in one write, numbered on from its last. */
function write(book: Ledger, sender: number, count: number, current: Phase): void {
  const socket = book.senders[sender]?.socket;
  const ring = book.pending[sender];
  if (socket === undefined || ring === undefined) return;
  const atUs = nowUs();
  let seq = book.sent[sender] ?? 0;
  let text = '';
  for (let line = 0; line < count; line += 1, seq += 1) {
    ring[seq & RING_MASK] = book.receivers;
    text += `${seq} ${atUs} ${current.padding}\n`;
  }
  book.sent[sender] = seq;
  if (current.measuring) current.sentInWindow += count;
  socket.write(text);
}

const inFlight = (book: Ledger, sender: number): number => (book.sent[sender] ?? 0) - (book.oldest[sender] ?? 0);

/** Saturate mode: keeps a sender's window full, a batch at a time. */
function pump(book: Ledger, sender: number, current: Phase): void {
  const { windowLines, batchLines } = current.spec;
  while (inFlight(book, sender) + batchLines <= windowLines) write(book, sender, batchLines, current);
}

/** Paced mode: each sender on its own timer, spread over the interval, catching up when late. */
function pace(book: Ledger, sender: number, current: Phase): void {
  const intervalMs = (1000 * book.senders.length) / current.spec.linesPerSecond;
  const startMs = performance.now() + (intervalMs * sender) / book.senders.length;
  let due = 0;
  const tick = () => {
    if (!current.running) return;
    const elapsed = Math.floor((performance.now() - startMs) / intervalMs) + 1;
    const room = RING_LINES - 1 - inFlight(book, sender); // a server this far behind holds the sender
    const count = Math.min(elapsed - due, room);
    if (count > 0) write(book, sender, count, current);
    due += Math.max(0, count);
    setTimeout(tick, Math.max(0, startMs + due * intervalMs - performance.now()));
  };
  setTimeout(tick, Math.max(0, startMs - performance.now()));
}

function lostLines(book: Ledger): number {
  let lost = 0;
  book.pending.forEach((ring, sender) => {
    for (let seq = book.oldest[sender] ?? 0; seq < (book.sent[sender] ?? 0); seq += 1) lost += ring[seq & RING_MASK] ?? 0;
  });
  return lost;
}

/** Resolves once every line sent has been read by every receiver, or after `timeoutMs`: what is
 * in flight then is counted as lost. */
async function drain(book: Ledger, timeoutMs: number): Promise<void> {
  const drained = () => book.senders.every((_, sender) => inFlight(book, sender) === 0);
  if (failed || drained()) return;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    onAdvanced = () => {
      if (failed || drained()) resolve();
    };
  });
  clearTimeout(timer);
  onAdvanced = undefined;
}

async function load(spec: LoadSpec): Promise<LoadResult> {
  const book = ledger;
  if (book === undefined) throw new Error('log the users in first');
  const current: Phase = {
    spec, padding: 'x'.repeat(Math.max(1, spec.lineBytes - 30)), running: true, measuring: false, windowFromUs: Number.POSITIVE_INFINITY, windowToUs: Number.POSITIVE_INFINITY,
    delivered: 0, sentInWindow: 0, orderErrors: 0, latency: new LatencyRecorder(), crossLatency: new LatencyRecorder(),
  };
  phase = current;
  book.senders.forEach((_, sender) => (spec.mode === 'saturate' ? pump(book, sender, current) : pace(book, sender, current)));
  await sleep(spec.warmupMs);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  current.measuring = true;
  current.windowFromUs = nowUs();
  sendToParent<'window'>({ type: 'window', edge: 'start' });
  await sleep(spec.durationMs);
  current.measuring = false;
  current.windowToUs = nowUs();
  sendToParent<'window'>({ type: 'window', edge: 'end' });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  current.running = false;
  await drain(book, spec.drainTimeoutMs);
  phase = undefined;
  return {
    deliveredPerSecond: current.delivered / seconds,
    sentPerSecond: current.sentInWindow / seconds,
    latency: current.latency.summary(),
    crossLatency: current.crossLatency.summary(),
    generatorCpuPercent: ((cpu.user + cpu.system) / 1e6 / seconds) * 100,
    orderErrors: current.orderErrors,
    lostLines: lostLines(book),
    errorExamples: [...errorExamples],
  };
}

function answer<K extends MessageType>(work: Promise<Messages[K]>): void {
  work.then((reply) => sendToParent<K>(reply)).catch((err: unknown) => fail(err instanceof Error ? err.message : String(err)));
}

process.on('message', (message: unknown) => {
  if (isMessage(message, 'login')) answer<'logged-in'>(logIn(message.spec).then((result) => ({ type: 'logged-in', result })));
  else if (isMessage(message, 'add-slow-reader')) answer<'slow-reader-added'>(addSlowReader().then(() => ({ type: 'slow-reader-added' })));
  else if (isMessage(message, 'check-slow-reader')) {
    answer<'slow-reader-checked'>(checkSlowReader().then((closedByServer) => ({ type: 'slow-reader-checked', closedByServer })));
  } else if (isMessage(message, 'load')) answer<'loaded'>(load(message.spec).then((result) => ({ type: 'loaded', result })));
});
process.on('disconnect', () => process.exit(0)); // the orchestrator is gone: do not outlive it
