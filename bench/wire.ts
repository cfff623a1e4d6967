/**
 * The IPC messages between the orchestrator (main.ts), the servers under test (serve.ts) and the
 * load generator (generator.ts). All three are built from this file, so a message's tag is
 * trusted to match its shape.
 */

/** One load phase: who sends how much for how long. */
export interface LoadSpec {
  /** `paced`: a fixed offered rate, for latency; `saturate`: a closed loop, for throughput. */
  readonly mode: 'paced' | 'saturate';
  /** Paced: lines per second offered by all senders together. */
  readonly linesPerSecond: number;
  /** Saturate: lines of one sender broadcast but not yet read by every receiver, at most. */
  readonly windowLines: number;
  /** Lines a sender writes at once in saturate mode. */
  readonly batchLines: number;
  /** Length of a broadcast line in bytes, about; padding makes up the rest. */
  readonly lineBytes: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly drainTimeoutMs: number;
}

/** Latency from send to receipt, in milliseconds. */
export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly count: number;
}

/** What one load phase measured on the client side. */
export interface LoadResult {
  /** Lines read by all counted receivers together, per second of the measured window. */
  readonly deliveredPerSecond: number;
  /** Lines the senders wrote in the measured window, per second. */
  readonly sentPerSecond: number;
  readonly latency: Latency;
  /** The same, of lines read on another node than their sender's; count 0 on one node. */
  readonly crossLatency: Latency;
  /** The generator's CPU time over the window, in percent of one core. */
  readonly generatorCpuPercent: number;
  /** Lines that came out of order, twice, or never (after the drain). */
  readonly orderErrors: number;
  readonly lostLines: number;
  /** A few of the errors, described, for the report. */
  readonly errorExamples: readonly string[];
}

export interface LoginSpec {
  /** The nodes' ports: user N logs in on the port at N modulo their number, so the senders are spread too. */
  readonly ports: readonly number[];
  readonly users: number;
  readonly senders: number;
  /** Logins in flight at once. */
  readonly concurrency: number;
  /** For the logins and for every receiver to have read what they caused. */
  readonly timeoutMs: number;
}

export interface LoginResult {
  /** From the first connect to the last "Welcome, NAME" read. */
  readonly loginMs: number;
  /** From the last login until every user had read every join line. */
  readonly settleMs: number;
  readonly generatorCpuPercent: number;
}

/** The crowd of the amplification attack (#18 item 7): users in a room of their own, each away with a reason. */
export interface CrowdSpec {
  readonly port: number;
  readonly users: number;
  readonly room: string;
  /** The length of each away reason, in characters. */
  readonly awayChars: number;
}

/** What the attackers read while they attacked. */
export interface AttackResult {
  /** `/who` answers read whole, by the line that ends a listing cut short. */
  readonly replies: number;
  readonly bytesRead: number;
  /** `*** slow down` lines read: lines the server dropped for the pace. */
  readonly slowDowns: number;
  /** Crowd connections the server had closed by the end. */
  readonly closed: number;
  readonly seconds: number;
  /** The attacker process's CPU over the attack, in percent of one core. */
  readonly cpuPercent: number;
}

/** A server's memory after a full collection, in bytes, from process.memoryUsage(). */
export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** The snapshot flood: connections spread over the nodes, each in a room of its own with a topic, sending long lines, then leaving. */
export interface FloodSpec {
  readonly ports: readonly number[];
  readonly connections: number;
  /** Lines each connection sends, of `lineBytes` each. */
  readonly lines: number;
  readonly lineBytes: number;
  /** The connections start evenly over this time. */
  readonly spreadMs: number;
  readonly timeoutMs: number;
}

export interface FloodResult {
  /** From the first connect to the last connection's close. */
  readonly floodMs: number;
  /** Connections that logged in, did it all and were closed by the server after /quit. */
  readonly completed: number;
}

export interface Messages {
  // orchestrator -> server
  gc: { readonly type: 'gc' };
  /** Starts watching the bytes queued for each socket, at every write. */
  'watch-queues': { readonly type: 'watch-queues' };
  /** Stops watching; the answer is the most bytes queued for one socket meanwhile. */
  'queue-peak': { readonly type: 'queue-peak' };
  // server -> orchestrator
  listening: { readonly type: 'listening'; readonly port: number };
  'gc-done': { readonly type: 'gc-done'; readonly memory: Memory };
  'watching-queues': { readonly type: 'watching-queues' };
  'queue-peaked': { readonly type: 'queue-peaked'; readonly bytes: number };
  // orchestrator -> generator
  login: { readonly type: 'login'; readonly spec: LoginSpec };
  'add-slow-reader': { readonly type: 'add-slow-reader' };
  /** The slow reader reads again, to find whether the server ended its connection meanwhile. */
  'check-slow-reader': { readonly type: 'check-slow-reader' };
  load: { readonly type: 'load'; readonly spec: LoadSpec };
  // orchestrator -> attacker, and its answers
  crowd: { readonly type: 'crowd'; readonly spec: CrowdSpec };
  'crowd-ready': { readonly type: 'crowd-ready' };
  /** The first `attackers` of the crowd send `/who`, each `whoPerSecond` times a second. */
  'attack-start': { readonly type: 'attack-start'; readonly attackers: number; readonly whoPerSecond: number };
  attacking: { readonly type: 'attacking' };
  'attack-stop': { readonly type: 'attack-stop' };
  'attack-stopped': { readonly type: 'attack-stopped' } & AttackResult;
  // generator -> orchestrator
  'logged-in': { readonly type: 'logged-in'; readonly result: LoginResult };
  'slow-reader-added': { readonly type: 'slow-reader-added' };
  'slow-reader-checked': { readonly type: 'slow-reader-checked'; readonly closedByServer: boolean };
  window: { readonly type: 'window'; readonly edge: 'start' | 'end' };
  loaded: { readonly type: 'loaded'; readonly result: LoadResult };
  failed: { readonly type: 'failed'; readonly message: string };
  // orchestrator -> flooder, and back
  flood: { readonly type: 'flood'; readonly spec: FloodSpec };
  flooded: { readonly type: 'flooded'; readonly result: FloodResult };
}

export type MessageType = keyof Messages;

/** Narrows an IPC message by its tag. */
export function isMessage<K extends MessageType>(value: unknown, type: K): value is Messages[K] {
  return typeof value === 'object' && value !== null && 'type' in value && value.type === type;
}

/** Sends to the parent; a child without one was started by mistake. */
export function sendToParent<K extends MessageType>(message: Messages[K]): void {
  if (process.send === undefined) throw new Error('run me with child_process.fork');
  process.send(message);
}
