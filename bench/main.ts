/**
 * The benchmark's orchestrator: `npm run bench [-- --quick]`. Runs every scenario against chatd
 * and against the plain `net` baseline, each in a fresh server process (serve.ts) driven by a
 * fresh load generator process (generator.ts), several times, alternating which goes first.
 * Prints a table of medians, then one line of JSON. Exits 1 on any lost or reordered line, any
 * crash or any timeout; a missed target is reported, not a failure.
 */
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import Redis from 'ioredis';
import { MAX_SEND_QUEUE_BYTES, MAX_WRITE_BYTES } from '../lib/edge/fanout';
import { type Bar, plot } from './plot';
import { runAccounts } from './accounts';
import { percentile, Probe } from './probe';
import { type FloodSpec, isMessage, type LoadResult, type LoadSpec, type LoginResult, type Memory, type MessageType, type Messages } from './wire';

type Kind = 'chatd' | 'baseline';
const KINDS: readonly Kind[] = ['chatd', 'baseline'];

/** One run of one server: each figure by its metric key. */
type Figures = Map<string, number>;

interface Plan {
  readonly runs: number;
  readonly senders: number;
  readonly fanOut: readonly { readonly users: number; readonly pacedLinesPerSecond: number }[];
  readonly connections: number;
  readonly slowReaderUsers: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly deadlineMs: number;
}

const USAGE = 'usage: npm run bench [-- [--quick] [--metrics | --cluster] [--only SCENARIO] [--runs N] [--connections N] [--plot FILE.svg]]';

/** The scenarios, in the order they run; `--only` picks one. `accounts` (chatd alone, no baseline) runs only when picked. */
const SCENARIOS = ['fan-out', 'connections', 'slow-reader', 'amplification', 'accounts'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** The scenarios of `--cluster`, in the order they run; `--only` picks one. */
const CLUSTER_SCENARIOS = ['fan-out', 'snapshot-flood'] as const;
type ClusterScenario = (typeof CLUSTER_SCENARIOS)[number];
/** Attacks on chatd alone (the baseline has no commands), which a run of every scenario leaves out: `--only` runs one. */
const ATTACKS: readonly Scenario[] = ['amplification'];
const CHATD_ALONE: readonly Kind[] = ['chatd'];

const isScenario = (name: string): name is Scenario => SCENARIOS.some((scenario) => scenario === name);
const isClusterScenario = (name: string): name is ClusterScenario => CLUSTER_SCENARIOS.some((scenario) => scenario === name);

interface Flags {
  readonly quick: boolean;
  /** chatd with its metrics endpoint on is measured against chatd with it off, in place of the baseline. */
  readonly metrics: boolean;
  /** Two chatd nodes on one Redis, half the users on each, are measured against one chatd with them all. */
  readonly cluster: boolean;
  readonly runs: string | undefined;
  readonly connections: string | undefined;
  /** The one scenario to run; every scenario when undefined. */
  readonly only: Scenario | undefined;
  /** The one scenario of `--cluster` to run; every one when undefined. */
  readonly onlyCluster: ClusterScenario | undefined;
  /** Where to write the chart of the figures, if anywhere. */
  readonly plot: string | undefined;
}

/** Checked before minutes of measuring rather than after them. */
function checkWritable(file: string): void {
  try {
    accessSync(dirname(file), constants.W_OK);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : String(err);
    throw new Error(`--plot: cannot write ${file} (${code} on ${dirname(file)})`);
  }
}

/** The command line, or the usage and exit code 2. */
function readFlags(): Flags {
  try {
    const { values } = parseArgs({
      options: {
        quick: { type: 'boolean' }, metrics: { type: 'boolean' }, cluster: { type: 'boolean' }, only: { type: 'string' },
        runs: { type: 'string' }, connections: { type: 'string' }, plot: { type: 'string' },
      },
      strict: true,
    });
    const { only } = values;
    const cluster = values.cluster === true;
    const known = cluster ? CLUSTER_SCENARIOS : SCENARIOS;
    if (only !== undefined && !known.some((scenario) => scenario === only)) {
      throw new Error(`--only${cluster ? ' with --cluster' : ''} takes one of ${known.join(', ')}, not '${only}'`);
    }
    const counts: readonly ('runs' | 'connections')[] = ['runs', 'connections'];
    for (const name of counts) {
      const value = values[name];
      if (value !== undefined && !/^[1-9]\d*$/.test(value)) throw new Error(`--${name} must be a whole number above 0, not '${value}'`);
    }
    if (values.plot !== undefined) checkWritable(values.plot);
    if (cluster && (values.metrics === true || values.plot !== undefined)) throw new Error('--cluster goes with neither --metrics nor --plot');
    return {
      quick: values.quick === true, metrics: values.metrics === true, cluster,
      only: only !== undefined && !cluster && isScenario(only) ? only : undefined,
      onlyCluster: only !== undefined && cluster && isClusterScenario(only) ? only : undefined,
      runs: values.runs, connections: values.connections, plot: values.plot,
    };
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(2);
  }
}

const flags = readFlags();
const QUICK = flags.quick;

// The issue's 10,000 users. Every login is announced to everyone logged in, N²/2 lines for N
// users: the baseline writes each to each socket and takes minutes, most of a full run; chatd
// writes a login storm's joins in batches (LOGIN_BATCH_MS in lib/fanout.ts).
const CONNECTIONS = Number(flags.connections ?? (QUICK ? 1000 : 10_000));
const RUNS = Number(flags.runs ?? (QUICK ? 1 : 3));

// Paced rates offer 50,000 deliveries a second: light for both servers, and a third of a core
// for the generator, which reads every delivery with its own system call. Latency is then the
// servers' response, not queueing; the saturated figures are the throughput.
const PLAN: Plan = {
  runs: RUNS,
  senders: 10,
  fanOut: [{ users: 100, pacedLinesPerSecond: 500 }, { users: 1000, pacedLinesPerSecond: 50 }],
  connections: CONNECTIONS,
  slowReaderUsers: 100,
  warmupMs: QUICK ? 300 : 500,
  durationMs: QUICK ? 1000 : 2500,
  deadlineMs: RUNS * (QUICK ? 60_000 : 120_000) + loginTimeoutMs(CONNECTIONS) * 2 * RUNS,
};

/** Lines of one sender in flight and lines per write, when saturating: a chat burst, not a file. */
const WINDOW_LINES = 64;
const BATCH_LINES = 8;
const LINE_BYTES = 64;
/**
 * The slow reader's kernel buffers hold about 4 MiB before the server's own queue grows; long
 * lines fill them within the phase even at the baseline's pace.
 */
const SLOW_READER_LINE_BYTES = 2000;
const LOGIN_CONCURRENCY = 200;
/** A process using this much of one core is what limits the phase (it runs on one thread). */
const FULL_CORE_PERCENT = 90;
const MIB = 1024 * 1024;
const CLOCK_TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

/** A broken run: lost or reordered lines, a crash, a timeout. */
class BenchFailure extends Error {
  readonly code = 'BENCH_FAILED';
}

const children = new Set<ChildProcess>();

/** A forked child and the IPC requests made of it. */
class Child {
  private constructor(
    readonly name: string,
    readonly process: ChildProcess,
  ) {}

  static start(name: string, script: string, args: readonly string[], execArgv: readonly string[]): Child {
    const child = fork(join(__dirname, script), [...args], { execArgv: [...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    children.add(child);
    child.once('exit', () => children.delete(child));
    // A child reports a broken run whenever it finds one, awaited or not.
    child.on('message', (message: unknown) => {
      if (isMessage(message, 'failed')) abort(`${name}: ${message.message}`);
    });
    return new Child(name, child);
  }

  get pid(): number {
    if (this.process.pid === undefined) throw new BenchFailure(`${this.name} did not start`);
    return this.process.pid;
  }

  /** Sends a message, if any, and resolves with the child's answer of type `type`. */
  request<K extends MessageType>(message: Messages[MessageType] | undefined, type: K, timeoutMs: number): Promise<Messages[K]> {
    return new Promise<Messages[K]>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        this.process.off('message', onMessage).off('exit', onExit);
      };
      const onMessage = (reply: unknown) => {
        if (!isMessage(reply, type)) return;
        done();
        resolve(reply);
      };
      const onExit = (code: number | null, signal: string | null) => {
        done();
        reject(new BenchFailure(`${this.name} exited (${code ?? signal}) while ${type} was awaited`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new BenchFailure(`${this.name} sent no ${type} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.process.on('message', onMessage).on('exit', onExit);
      if (message !== undefined) this.process.send(message);
    });
  }

  /** Lets the child exit by itself (a CPU profile is written then), killing it if it does not. */
  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((resolve) => this.process.once('exit', resolve));
    const kill = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    if (this.process.connected) this.process.disconnect();
    await exited;
    clearTimeout(kill);
  }
}

/** Bytes the kernel counts as the process's resident memory. */
function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (match?.[1] === undefined) throw new BenchFailure(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** User and system CPU time of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name can hold spaces; the fields after it are fixed: utime and stime are 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

interface Server {
  readonly child: Child;
  readonly port: number;
}

async function startServer(kind: Kind, nodeFlags: readonly string[]): Promise<Server> {
  // With --metrics both sides are chatd, alike but for the endpoint: the ratios are its cost.
  const args = !flags.metrics ? [kind] : kind === 'chatd' ? ['chatd', 'metrics'] : ['chatd'];
  const child = Child.start(kind, 'serve.js', args, ['--expose-gc', ...nodeFlags]);
  const { port } = await child.request(undefined, 'listening', 10_000);
  return { child, port };
}

/** A full collection first, so that the figure is live memory and not uncollected garbage. */
async function settledMemory(server: Server): Promise<Memory> {
  const { memory } = await server.child.request({ type: 'gc' }, 'gc-done', 10_000);
  return { ...memory, rss: rssBytes(server.child.pid) };
}

/** Generous: logins cost N² join lines, about 10 µs each on a slow server. */
function loginTimeoutMs(users: number): number {
  return 30_000 + (users * users) / 50;
}

interface LoggedIn {
  readonly generator: Child;
  readonly result: LoginResult;
}

/** Starts a generator and logs its users in, spread over the servers; the caller stops the generator. */
async function logIn(server: Server | readonly Server[], users: number, senders: number, started: Child[]): Promise<LoggedIn> {
  const servers = Array.isArray(server) ? server : [server];
  const generator = Child.start(`generator for ${servers.map((each) => each.child.name).join(', ')}`, 'generator.js', [], []);
  started.push(generator);
  const timeoutMs = loginTimeoutMs(users);
  const spec = { ports: servers.map((each) => each.port), users, senders, concurrency: LOGIN_CONCURRENCY, timeoutMs };
  const { result } = await generator.request({ type: 'login', spec }, 'logged-in', timeoutMs * 2 + 10_000);
  return { generator, result };
}

interface Measured {
  readonly result: LoadResult;
  readonly serverCpuPercent: number;
  /** The CPU of the processes counted beside the servers (a cluster's Redis) over the same window. */
  readonly besideCpuPercent: number;
  readonly peakRss: number;
}

/**
 * One load phase; samples the servers' RSS throughout and their CPU over the measured window, each
 * summed, and the CPU of the `beside` processes (a cluster's Redis) over the same window.
 */
async function runLoad(server: Server | readonly Server[], generator: Child, spec: LoadSpec, beside: readonly number[] = []): Promise<Measured> {
  const servers = Array.isArray(server) ? server : [server];
  const pids = servers.map((each) => each.child.pid);
  const total = (of: (pid: number) => number, among: readonly number[] = pids) => among.reduce((sum, pid) => sum + of(pid), 0);
  const name = servers.map((each) => each.child.name).join(', ');
  let peakRss = total(rssBytes);
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, total(rssBytes))), 20);
  let windowStart = { cpu: 0, besideCpu: 0, at: 0 };
  let serverCpuPercent = 0;
  let besideCpuPercent = 0;
  const onWindow = (message: unknown) => {
    if (!isMessage(message, 'window')) return;
    const now = { cpu: total(cpuSeconds), besideCpu: total(cpuSeconds, beside), at: performance.now() };
    if (message.edge === 'start') windowStart = now;
    else {
      const seconds = (now.at - windowStart.at) / 1000;
      serverCpuPercent = ((now.cpu - windowStart.cpu) / seconds) * 100;
      besideCpuPercent = ((now.besideCpu - windowStart.besideCpu) / seconds) * 100;
    }
  };
  generator.process.on('message', onWindow);
  try {
    const timeoutMs = spec.warmupMs + spec.durationMs + spec.drainTimeoutMs + 10_000;
    const { result } = await generator.request({ type: 'load', spec }, 'loaded', timeoutMs);
    if (result.lostLines > 0 || result.orderErrors > 0) {
      const examples = result.errorExamples.join('; ');
      throw new BenchFailure(`${name}: ${result.lostLines} deliveries lost, ${result.orderErrors} out of order (${examples})`);
    }
    return { result, serverCpuPercent, besideCpuPercent, peakRss: Math.max(peakRss, total(rssBytes)) };
  } finally {
    clearInterval(sampler);
    generator.process.off('message', onWindow);
  }
}

function loadSpec(mode: LoadSpec['mode'], linesPerSecond: number, lineBytes = LINE_BYTES, durationMs = PLAN.durationMs): LoadSpec {
  return {
    mode, linesPerSecond, windowLines: WINDOW_LINES, batchLines: BATCH_LINES, lineBytes,
    warmupMs: PLAN.warmupMs, durationMs, drainTimeoutMs: 10_000,
  };
}

/** Starts a server, runs `body` on it, and stops every process started for it, whatever happens. */
async function onServer(kind: Kind, body: (server: Server, started: Child[]) => Promise<void>, nodeFlags: readonly string[] = []): Promise<void> {
  const server = await startServer(kind, nodeFlags);
  const started = [server.child];
  try {
    await body(server, started);
  } finally {
    await Promise.all(started.map((child) => child.stop()));
  }
}

async function fanOut(kind: Kind, users: number, pacedLinesPerSecond: number, into: Figures): Promise<void> {
  await onServer(kind, async (server, started) => {
    const idle = await settledMemory(server);
    const { generator } = await logIn(server, users, PLAN.senders, started);
    const busy = await settledMemory(server);
    const saturated = await runLoad(server, generator, loadSpec('saturate', 0));
    const paced = await runLoad(server, generator, loadSpec('paced', pacedLinesPerSecond));
    const key = `fanout${users}`;
    into.set(`${key}.rssPerUser`, (busy.rss - idle.rss) / users / 1024);
    into.set(`${key}.throughput`, saturated.result.deliveredPerSecond);
    into.set(`${key}.saturatedP99`, saturated.result.latency.p99);
    into.set(`${key}.p50`, paced.result.latency.p50);
    into.set(`${key}.p99`, paced.result.latency.p99);
    into.set(`${key}.max`, paced.result.latency.max);
    into.set(`${key}.saturated.generatorCpu`, saturated.result.generatorCpuPercent);
    into.set(`${key}.saturated.serverCpu`, saturated.serverCpuPercent);
    into.set(`${key}.paced.generatorCpu`, paced.result.generatorCpuPercent);
    into.set(`${key}.paced.serverCpu`, paced.serverCpuPercent);
  });
}

/**
 * V8 sizes its young generation (up to 16 MiB a semi-space) by the allocation rate, and logging
 * users in grows it: a cost per process, not per user, that spread over a thousand users
 * outweighs what each one holds. The connections phase caps it at 1 MiB in both servers, so that
 * its RSS per user is the cost of a connection; the fan-out phases run on V8's defaults and
 * report RSS per user too.
 */
const YOUNG_GENERATION_CAP: readonly string[] = ['--max-semi-space-size=1'];

async function connections(kind: Kind, into: Figures): Promise<void> {
  await onServer(kind, async (server, started) => {
    const idle = await settledMemory(server);
    const cpuBefore = cpuSeconds(server.child.pid);
    const { result } = await logIn(server, PLAN.connections, 0, started);
    const serverCpu = cpuSeconds(server.child.pid) - cpuBefore;
    const busy = await settledMemory(server);
    const perConnection = (bytes: (memory: Memory) => number) => (bytes(busy) - bytes(idle)) / PLAN.connections / 1024;
    into.set('connections.loginSeconds', result.loginMs / 1000);
    into.set('connections.settleSeconds', result.settleMs / 1000);
    into.set('connections.rssPerConnection', perConnection((memory) => memory.rss));
    into.set('connections.heapPerConnection', perConnection((memory) => memory.heapUsed));
    into.set('connections.externalPerConnection', perConnection((memory) => memory.external));
    into.set('connections.generatorCpu', result.generatorCpuPercent);
    into.set('connections.serverCpu', (serverCpu / ((result.loginMs + result.settleMs) / 1000)) * 100);
  }, YOUNG_GENERATION_CAP);
}

/**
 * Memory over one phase: the growth of RSS at its peak, in MiB, and the most bytes the server
 * had queued for any one socket, in KiB, watched at every write in the server. RSS keeps what
 * V8 and malloc reserved on the way and swings by MiBs between runs; the queue is what a slow
 * reader costs.
 */
interface Growth {
  readonly peakRss: number;
  readonly peakQueue: number;
}

async function measureGrowth(server: Server, generator: Child, spec: LoadSpec): Promise<[Measured, Growth]> {
  const before = await settledMemory(server);
  await server.child.request({ type: 'watch-queues' }, 'watching-queues', 10_000);
  const measured = await runLoad(server, generator, spec);
  const { bytes } = await server.child.request({ type: 'queue-peak' }, 'queue-peaked', 10_000);
  return [measured, { peakRss: (measured.peakRss - before.rss) / MIB, peakQueue: bytes / 1024 }];
}

async function slowReader(kind: Kind, into: Figures): Promise<void> {
  await onServer(kind, async (server, started) => {
    const { generator } = await logIn(server, PLAN.slowReaderUsers, PLAN.senders, started);
    await runLoad(server, generator, loadSpec('saturate', 0, SLOW_READER_LINE_BYTES, 0)); // both measured phases start warm
    const [alone, aloneGrowth] = await measureGrowth(server, generator, loadSpec('saturate', 0, SLOW_READER_LINE_BYTES));
    await generator.request({ type: 'add-slow-reader' }, 'slow-reader-added', 15_000);
    const [slowed, slowedGrowth] = await measureGrowth(server, generator, loadSpec('saturate', 0, SLOW_READER_LINE_BYTES));
    const { closedByServer } = await generator.request({ type: 'check-slow-reader' }, 'slow-reader-checked', 15_000);
    into.set('slow.throughputAlone', alone.result.deliveredPerSecond);
    into.set('slow.throughputSlowed', slowed.result.deliveredPerSecond);
    into.set('slow.retained', (slowed.result.deliveredPerSecond / alone.result.deliveredPerSecond) * 100);
    into.set('slow.peakGrowthAlone', aloneGrowth.peakRss);
    into.set('slow.peakGrowthSlowed', slowedGrowth.peakRss);
    into.set('slow.queueAlone', aloneGrowth.peakQueue);
    into.set('slow.queueSlowed', slowedGrowth.peakQueue);
    into.set('slow.readerCutOff', closedByServer ? 1 : 0);
    into.set('slow.slowed.generatorCpu', slowed.result.generatorCpuPercent);
    into.set('slow.slowed.serverCpu', slowed.serverCpuPercent);
  });
}

/**
 * #18 item 7's attack: a crowd in a room of its own, each away with a long reason, of whom some
 * send `/who` as fast as chatd's default pace lets a user type; meanwhile two other users chat in
 * #main, and the generator measures their lines' latency: what the attack costs those it does not
 * aim at (the cost of a line to 1500 readers is the fan-out scenario's). chatd runs with its own
 * flood limits (the defence is the pace), against an attacker process of its own.
 */
const AMPLIFICATION = {
  users: 1500, attackers: 600, room: '#crowd', awayChars: 200, whoPerSecond: 5, chatLinesPerSecond: 8,
  warmupMs: QUICK ? 2000 : 5000, durationMs: QUICK ? 5000 : 20_000,
};

async function amplification(into: Figures): Promise<void> {
  const { users, attackers, room, awayChars, whoPerSecond, chatLinesPerSecond, warmupMs, durationMs } = AMPLIFICATION;
  const child = Child.start('chatd', 'serve.js', ['chatd', 'paced'], []);
  const started = [child];
  try {
    const server: Server = { child, port: (await child.request(undefined, 'listening', 10_000)).port };
    const attacker = Child.start('attacker', 'attacker.js', [], []);
    started.push(attacker);
    await attacker.request({ type: 'crowd', spec: { port: server.port, users, room, awayChars } }, 'crowd-ready', loginTimeoutMs(users));
    const { generator } = await logIn(server, 2, 2, started);
    // The same chat with the crowd idle first: what this machine gives, attack aside.
    const quiet = await runLoad(server, generator, { ...loadSpec('paced', chatLinesPerSecond), durationMs });
    await attacker.request({ type: 'attack-start', attackers, whoPerSecond }, 'attacking', 10_000);
    const chat = await runLoad(server, generator, { ...loadSpec('paced', chatLinesPerSecond), warmupMs, durationMs });
    const attack = await attacker.request({ type: 'attack-stop' }, 'attack-stopped', 10_000);
    into.set('amplification.quietP50', quiet.result.latency.p50);
    into.set('amplification.quietP99', quiet.result.latency.p99);
    into.set('amplification.p50', chat.result.latency.p50);
    into.set('amplification.p99', chat.result.latency.p99);
    into.set('amplification.max', chat.result.latency.max);
    into.set('amplification.replies', attack.replies / attack.seconds);
    into.set('amplification.mib', attack.bytesRead / MIB / attack.seconds);
    into.set('amplification.slowDowns', attack.slowDowns / attack.seconds);
    into.set('amplification.closed', attack.closed);
    into.set('amplification.serverCpu', chat.serverCpuPercent);
    into.set('amplification.attackerCpu', attack.cpuPercent);
    into.set('amplification.generatorCpu', chat.result.generatorCpuPercent);
  } finally {
    await Promise.all(started.map((each) => each.stop()));
  }
}

/** Which way a figure is better; a figure without one (a count, a raw rate) is not plotted. */
type Better = 'higher' | 'lower' | undefined;

interface Metric {
  readonly key: string;
  readonly label: string;
  readonly unit: string;
  readonly digits: number;
  readonly better: Better;
}

const metric = (key: string, label: string, unit: string, digits: number, better: Better): Metric => ({ key, label, unit, digits, better });

function metrics(): Metric[] {
  const fanOutRows = PLAN.fanOut.flatMap(({ users, pacedLinesPerSecond }) => [
    metric(`fanout${users}.throughput`, `fan-out ${users}: lines delivered, saturated`, 'lines/s', 0, 'higher'),
    metric(`fanout${users}.saturatedP99`, `fan-out ${users}: p99 latency, saturated`, 'ms', 2, 'lower'),
    metric(`fanout${users}.p50`, `fan-out ${users}: p50 latency at ${pacedLinesPerSecond} lines/s in`, 'ms', 3, 'lower'),
    metric(`fanout${users}.p99`, `fan-out ${users}: p99 latency at ${pacedLinesPerSecond} lines/s in`, 'ms', 3, 'lower'),
    metric(`fanout${users}.max`, `fan-out ${users}: max latency at ${pacedLinesPerSecond} lines/s in`, 'ms', 2, 'lower'),
    metric(`fanout${users}.rssPerUser`, `fan-out ${users}: RSS per user logged in, V8 defaults`, 'KiB', 1, 'lower'),
  ]);
  const n = PLAN.connections;
  return [
    ...fanOutRows,
    metric('connections.loginSeconds', `connections: ${n} users, time to log in`, 's', 2, 'lower'),
    metric('connections.settleSeconds', `connections: ${n} users, then all joins read`, 's', 2, undefined),
    metric('connections.rssPerConnection', 'connections: RSS per idle user, young gen. capped', 'KiB', 1, 'lower'),
    metric('connections.heapPerConnection', 'connections: JS heap per idle user', 'KiB', 1, 'lower'),
    metric('connections.externalPerConnection', 'connections: external per idle user', 'KiB', 2, undefined),
    metric('slow.throughputAlone', `slow reader: others' lines/s, without it`, 'lines/s', 0, undefined),
    metric('slow.throughputSlowed', `slow reader: others' lines/s, with it`, 'lines/s', 0, undefined),
    metric('slow.retained', `slow reader: others' throughput kept`, '%', 1, 'higher'),
    metric('slow.peakGrowthAlone', 'slow reader: peak RSS growth, without it', 'MiB', 1, undefined),
    metric('slow.peakGrowthSlowed', 'slow reader: peak RSS growth, with it', 'MiB', 1, undefined),
    metric('slow.queueAlone', 'slow reader: most queued for one user, without it', 'KiB', 1, undefined),
    metric('slow.queueSlowed', 'slow reader: most queued for one user, with it', 'KiB', 1, 'lower'),
    metric('slow.readerCutOff', 'slow reader: cut off by the server (1 = yes)', '', 1, undefined),
    ...amplificationMetrics(),
  ];
}

function amplificationMetrics(): Metric[] {
  const { users, attackers, room, awayChars, whoPerSecond, chatLinesPerSecond } = AMPLIFICATION;
  const attack = `${attackers} of ${users} in ${room}, away (${awayChars} chars), send /who at ${whoPerSecond}/s`;
  return [
    metric('amplification.quietP50', `amplification: ${users} idle in ${room}; chat of 2 others in #main at ${chatLinesPerSecond} lines/s: p50`, 'ms', 2, undefined),
    metric('amplification.quietP99', 'amplification: the same, no attack: p99', 'ms', 2, undefined),
    metric('amplification.p50', `amplification: ${attack}; the same chat: p50`, 'ms', 2, undefined),
    metric('amplification.p99', 'amplification: chat of the 2 others: p99', 'ms', 2, undefined),
    metric('amplification.max', 'amplification: chat of the 2 others: max', 'ms', 2, undefined),
    metric('amplification.replies', 'amplification: /who answers the attackers read', '/s', 0, undefined),
    metric('amplification.mib', 'amplification: bytes the attackers read', 'MiB/s', 2, undefined),
    metric('amplification.slowDowns', 'amplification: slow-down notices (lines dropped for the pace)', '/s', 1, undefined),
    metric('amplification.closed', 'amplification: attackers cut off by the server', '', 0, undefined),
    metric('amplification.attackerCpu', 'amplification: attacker process CPU', '%', 0, undefined),
  ];
}

/** How many times better chatd did than the baseline in a run, by the figure's direction. */
function advantage(ratio: number, better: 'higher' | 'lower'): number {
  return better === 'higher' ? ratio : 1 / ratio;
}

/** CPU of both sides per phase: a phase whose generator is near one full core measures it too. */
const CPU_PHASES: readonly { readonly key: string; readonly label: string }[] = [
  ...PLAN.fanOut.flatMap(({ users }) => [
    { key: `fanout${users}.saturated`, label: `fan-out ${users}, saturated` },
    { key: `fanout${users}.paced`, label: `fan-out ${users}, paced` },
  ]),
  { key: 'connections', label: `connections, ${PLAN.connections} logins` },
  { key: 'slow.slowed', label: 'slow reader, with it' },
  { key: 'amplification', label: 'amplification, beside the attacker' },
];

interface Target {
  readonly name: string;
  readonly met: (summary: Summary) => boolean | undefined;
}

/** The issue's targets against the baseline, as the least advantage each asks chatd for. */
const RATIO_TARGETS: readonly { readonly key: string; readonly name: string; readonly advantage: number }[] = [
  { key: 'fanout1000.throughput', name: 'fan-out throughput at 1000 users >= 10x baseline', advantage: 10 },
  { key: 'fanout1000.p99', name: 'p99 latency at 1000 users <= baseline', advantage: 1 },
  { key: 'connections.rssPerConnection', name: 'RSS per idle logged-in user <= 1.7x baseline', advantage: 1 / 1.7 },
];

function ratioTarget(key: string, least: number): Target['met'] {
  const better = metrics().find((each) => each.key === key)?.better;
  if (better === undefined) throw new Error(`a target on ${key} needs a figure that is better one way`);
  return (s) => {
    const ratio = s.get(key)?.ratio;
    return ratio === undefined ? undefined : advantage(ratio, better) >= least;
  };
}

const TARGETS: readonly Target[] = [
  ...RATIO_TARGETS.map(({ key, name, advantage: least }) => ({ name, met: ratioTarget(key, least) })),
  { name: 'slow reader: others keep >= 90% throughput', met: (s) => atLeast(s.get('slow.retained')?.chatd, 90) },
  {
    // chatd cuts a reader off at the first write that finds more than the limit queued: the
    // queue passes the limit by that one write at most.
    name: `slow reader: most queued for one user <= send-queue limit (${MAX_SEND_QUEUE_BYTES / MIB} MiB) + one write (${MAX_WRITE_BYTES / 1024} KiB)`,
    met: (s) => atMost(s.get('slow.queueSlowed')?.chatd, (MAX_SEND_QUEUE_BYTES + MAX_WRITE_BYTES) / 1024),
  },
  { name: 'amplification: chat p99 between two others < 200 ms under the /who attack', met: (s) => below(s.get('amplification.p99')?.chatd, 200) },
];

const atLeast = (value: number | undefined, bound: number) => (value === undefined ? undefined : value >= bound);
const atMost = (value: number | undefined, bound: number) => (value === undefined ? undefined : value <= bound);
const below = (value: number | undefined, bound: number) => (value === undefined ? undefined : value < bound);

interface Row {
  readonly chatd: number;
  readonly baseline: number;
  readonly chatdRuns: readonly number[];
  readonly baselineRuns: readonly number[];
  /** The median of each run's chatd / baseline: pairs figures taken minutes apart at most. */
  readonly ratio: number;
}

type Summary = Map<string, Row>;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] ?? Number.NaN;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] ?? Number.NaN) + upper) / 2;
}

function summarize(runs: readonly (readonly [Figures, Figures])[]): Summary {
  const keys = new Set(runs.flatMap(([chatd, baseline]) => [...chatd.keys(), ...baseline.keys()]));
  const summary: Summary = new Map();
  for (const key of keys) {
    const pairs = runs.map(([chatd, baseline]): [number, number] => [chatd.get(key) ?? Number.NaN, baseline.get(key) ?? Number.NaN]);
    const chatdRuns = pairs.map(([chatd]) => chatd);
    const baselineRuns = pairs.map(([, baseline]) => baseline);
    summary.set(key, {
      chatd: median(chatdRuns),
      baseline: median(baselineRuns),
      chatdRuns,
      baselineRuns,
      ratio: median(pairs.map(([chatd, baseline]) => chatd / baseline)),
    });
  }
  return summary;
}

const format = (value: number, digits: number) =>
  Number.isFinite(value) ? value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : '-';

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows.reduce<number[]>((acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)), []);
  return rows.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/** Which side a phase's figures are limited by, judged by who used a full core. */
function limit(generatorPercent: number, serverPercent: number): string {
  const generatorFull = generatorPercent >= FULL_CORE_PERCENT;
  const serverFull = serverPercent >= FULL_CORE_PERCENT;
  if (generatorFull && serverFull) return 'both at a full core: may be generator-limited';
  if (generatorFull) return 'generator-limited: the server figure is a floor';
  return serverFull ? 'server-limited' : '';
}

function report(summary: Summary, seconds: number): void {
  // Figures of scenarios that did not run (--only) are left out.
  const figureRows = metrics().flatMap(({ key, label, unit, digits }) => {
    const row = summary.get(key);
    if (row === undefined) return [];
    return [[label, unit, format(row.chatd, digits), format(row.baseline, digits), format(row.ratio, 2)]];
  });
  const cpuRows = CPU_PHASES.filter(({ key }) => summary.has(`${key}.serverCpu`)).flatMap(({ key, label }) =>
    KINDS.map((kind) => {
      const generator = summary.get(`${key}.generatorCpu`)?.[kind] ?? Number.NaN;
      const server = summary.get(`${key}.serverCpu`)?.[kind] ?? Number.NaN;
      return [`${label}, ${kind}`, format(generator, 0), format(server, 0), limit(generator, server)];
    }),
  );
  const verdicts = TARGETS.map(({ name, met }) => {
    const verdict = met(summary);
    return `  ${verdict === undefined ? 'n/a ' : verdict ? 'met ' : 'MISS'}  ${name}`;
  });
  const against = flags.metrics ? '; the chatd column has metrics on, the baseline column is chatd with them off' : '';
  const mode = `${QUICK ? `quick (${PLAN.connections} connections, short phases)` : 'full'}${against}`;
  process.stdout.write(
    `\nchatd vs baseline: ${mode}; median of ${PLAN.runs} run${PLAN.runs === 1 ? '' : 's'}; ratio = median of per-run chatd/baseline\n\n` +
      `${table([['figure', 'unit', 'chatd', 'baseline', 'ratio'], ...figureRows])}\n\n` +
      `CPU over the measured window, % of one core (2 cores shared by server and generator)\n\n` +
      `${table([['phase, server', 'generator', 'server', ''], ...cpuRows])}\n\n` +
      // With --metrics both columns are chatd: the targets against the baseline do not apply.
      `${flags.metrics ? 'targets: not judged with --metrics' : `targets\n${verdicts.join('\n')}`}\n\nbenchmark took ${format(seconds, 0)} s\n`,
  );
  const json = {
    mode: QUICK ? 'quick' : 'full',
    runs: PLAN.runs,
    seconds: Math.round(seconds),
    figures: Object.fromEntries([...summary].map(([key, row]) => [key, row])),
    targets: Object.fromEntries(TARGETS.map(({ name, met }) => [name, met(summary) ?? null])),
  };
  process.stdout.write(`${JSON.stringify(json)}\n`);
  if (flags.plot !== undefined) {
    const when = `${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}`;
    const subtitle = `${mode}; median of ${PLAN.runs} run${PLAN.runs === 1 ? '' : 's'}; ${when}`;
    writeFileSync(flags.plot, plot('chatd against the plain net baseline: how many times better', subtitle, bars(summary)));
    process.stderr.write(`chart written to ${flags.plot}\n`);
  }
}

/** The figures that are better one way, as bars of chatd's advantage. */
function bars(summary: Summary): Bar[] {
  return metrics().flatMap(({ key, label, better }): Bar[] => {
    const row = summary.get(key);
    if (better === undefined || row === undefined || !Number.isFinite(row.ratio)) return [];
    const runs = row.chatdRuns.map((chatd, run) => advantage(chatd / (row.baselineRuns[run] ?? Number.NaN), better));
    const target = RATIO_TARGETS.find((each) => each.key === key)?.advantage;
    return [{ label, advantage: advantage(row.ratio, better), runs: runs.filter(Number.isFinite), target }];
  });
}

/** The sockets of both sides must fit: every user's, in the server and in the generator. */
function checkFileLimit(): void {
  const limits = readFileSync('/proc/self/limits', 'utf8');
  const soft = Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Number.NaN);
  const needed = PLAN.connections + 1000;
  if (!(soft >= needed)) {
    throw new BenchFailure(`the open file limit is ${soft}; ${needed} are needed: run 'ulimit -n ${needed}' first (npm run bench tries)`);
  }
}

async function runAll(): Promise<void> {
  checkFileLimit();
  const started = performance.now();
  const runs: [Figures, Figures][] = [];
  for (let run = 0; run < PLAN.runs; run += 1) {
    const figures = { chatd: new Map<string, number>(), baseline: new Map<string, number>() };
    // Alternating who goes first keeps a warming or cooling machine from favouring one side.
    const order = run % 2 === 0 ? KINDS : [...KINDS].reverse();
    const scenarios: [Scenario, string, (kind: Kind) => Promise<void>][] = [
      ...PLAN.fanOut.map(({ users, pacedLinesPerSecond }): [Scenario, string, (kind: Kind) => Promise<void>] =>
        ['fan-out', `fan-out ${users}`, (kind) => fanOut(kind, users, pacedLinesPerSecond, figures[kind])]),
      ['connections', 'connections', (kind) => connections(kind, figures[kind])],
      ['slow-reader', 'slow reader', (kind) => slowReader(kind, figures[kind])],
      ['amplification', 'amplification', () => amplification(figures.chatd)],
    ];
    const picked = scenarios.filter(([which]) => (flags.only === undefined ? !ATTACKS.includes(which) : which === flags.only));
    for (const [which, name, scenario] of picked) {
      for (const kind of ATTACKS.includes(which) ? CHATD_ALONE : order) {
        const at = performance.now();
        await scenario(kind);
        process.stderr.write(`run ${run + 1}/${PLAN.runs} ${name} ${kind}: ${format((performance.now() - at) / 1000, 1)} s\n`);
      }
    }
    runs.push([figures.chatd, figures.baseline]);
  }
  report(summarize(runs), (performance.now() - started) / 1000);
}

/** `--cluster`: the users, split over two nodes, and the paced rate of the fan-out at 1000. */
const CLUSTER_USERS = 1000;
const CLUSTER_PACED_LINES_PER_SECOND = 50;

interface RedisProcess {
  readonly socket: string;
  /** Its CPU counts with the nodes' in a cluster's CPU per delivered line. */
  readonly pid: number;
  stop(): Promise<void>;
}

/** A redis-server of the bench's own: a unix socket in a temporary folder, nothing kept on disk. */
async function startRedis(): Promise<RedisProcess> {
  const folder = mkdtempSync(join(tmpdir(), 'chatd-bench-redis-'));
  const socket = join(folder, 'redis.sock');
  const child = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.once('exit', () => children.delete(child));
  await new Promise<void>((resolve, reject) => {
    let seen = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      seen += chunk;
      if (/ready to accept connections/i.test(seen)) resolve();
    });
    child.once('error', (err) => reject(new BenchFailure(`redis-server: ${err.message} (apt-get install redis-server)`)));
    child.once('exit', () => reject(new BenchFailure(`redis-server exited: ${seen.slice(-300)}`)));
  });
  child.stdout.resume(); // its log is read, never let fill the pipe
  const { pid } = child;
  if (pid === undefined) throw new BenchFailure('redis-server did not start');
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(folder, { recursive: true, force: true });
  };
  return { socket, pid, stop };
}

/** One chatd (nodes 1), or `nodes` chatd processes on a Redis of their own, loaded alike. */
async function clusterLoad(nodes: number, into: Figures): Promise<void> {
  const redis = nodes > 1 ? await startRedis() : undefined;
  const started: Child[] = [];
  try {
    const args = redis === undefined ? ['chatd'] : ['chatd', `redis=${redis.socket}`];
    const servers: Server[] = [];
    for (let node = 0; node < nodes; node += 1) { // one after the other: each starts from the others' state
      const child = Child.start(`chatd node ${node + 1} of ${nodes}`, 'serve.js', args, []);
      started.push(child);
      servers.push({ child, port: (await child.request(undefined, 'listening', 15_000)).port });
    }
    const { generator } = await logIn(servers, CLUSTER_USERS, PLAN.senders, started);
    const redisPids = redis === undefined ? [] : [redis.pid];
    const saturated = await runLoad(servers, generator, loadSpec('saturate', 0), redisPids);
    const paced = await runLoad(servers, generator, loadSpec('paced', CLUSTER_PACED_LINES_PER_SECOND), redisPids);
    into.set('cluster.throughput', saturated.result.deliveredPerSecond);
    into.set('cluster.saturatedP99', saturated.result.latency.p99);
    into.set('cluster.p50', paced.result.latency.p50);
    into.set('cluster.p99', paced.result.latency.p99);
    into.set('cluster.crossP50', paced.result.crossLatency.count > 0 ? paced.result.crossLatency.p50 : Number.NaN);
    into.set('cluster.crossP99', paced.result.crossLatency.count > 0 ? paced.result.crossLatency.p99 : Number.NaN);
    into.set('cluster.saturated.generatorCpu', saturated.result.generatorCpuPercent);
    into.set('cluster.saturated.serverCpu', saturated.serverCpuPercent);
    into.set('cluster.saturated.redisCpu', saturated.besideCpuPercent);
    into.set('cluster.saturated.cpuPerLine', cpuMicrosecondsPerLine(saturated));
    into.set('cluster.paced.serverCpu', paced.serverCpuPercent);
    into.set('cluster.paced.redisCpu', paced.besideCpuPercent);
    into.set('cluster.paced.cpuPerLine', cpuMicrosecondsPerLine(paced));
  } finally {
    await Promise.all(started.map((child) => child.stop()));
    await redis?.stop();
  }
}

/**
 * Server CPU per delivered line, in µs: the nodes' and Redis's CPU over the measured window, divided
 * by the deliveries the generator counted in it (both are rates over the same window).
 */
function cpuMicrosecondsPerLine({ result, serverCpuPercent, besideCpuPercent }: Measured): number {
  return (((serverCpuPercent + besideCpuPercent) / 100) * 1e6) / result.deliveredPerSecond;
}

const CLUSTER_METRICS: readonly Metric[] = [
  metric('cluster.throughput', `${CLUSTER_USERS} users: lines delivered, saturated`, 'lines/s', 0, 'higher'),
  metric('cluster.saturatedP99', `${CLUSTER_USERS} users: p99 latency, saturated`, 'ms', 2, 'lower'),
  metric('cluster.p50', `${CLUSTER_USERS} users: p50 latency at ${CLUSTER_PACED_LINES_PER_SECOND} lines/s in`, 'ms', 3, 'lower'),
  metric('cluster.p99', `${CLUSTER_USERS} users: p99 latency at ${CLUSTER_PACED_LINES_PER_SECOND} lines/s in`, 'ms', 3, 'lower'),
  metric('cluster.crossP50', '  of which read on the other node: p50', 'ms', 3, undefined),
  metric('cluster.crossP99', '  of which read on the other node: p99', 'ms', 3, undefined),
  metric('cluster.saturated.serverCpu', 'server CPU, saturated, all nodes (Redis not counted)', '%', 0, undefined),
  metric('cluster.saturated.redisCpu', 'Redis CPU, saturated', '%', 0, undefined),
  metric('cluster.saturated.cpuPerLine', 'server CPU per delivered line, saturated, all nodes and Redis', 'µs', 3, 'lower'),
  metric('cluster.paced.serverCpu', `server CPU at ${CLUSTER_PACED_LINES_PER_SECOND} lines/s in, all nodes (Redis not counted)`, '%', 0, undefined),
  metric('cluster.paced.redisCpu', `Redis CPU at ${CLUSTER_PACED_LINES_PER_SECOND} lines/s in`, '%', 0, undefined),
  metric('cluster.paced.cpuPerLine', `server CPU per delivered line at ${CLUSTER_PACED_LINES_PER_SECOND} lines/s in, all nodes and Redis`, 'µs', 3, 'lower'),
  metric('cluster.saturated.generatorCpu', 'generator CPU, saturated', '%', 0, undefined),
];

/** The issue's aims for the cluster, against one node: the ratio two nodes / one node. */
function clusterVerdicts(summary: Summary): string[] {
  const ratio = (key: string) => summary.get(key)?.ratio ?? Number.NaN;
  const crossOverOne = median((summary.get('cluster.crossP99')?.chatdRuns ?? []).map((cross, run) => cross / (summary.get('cluster.p99')?.baselineRuns[run] ?? Number.NaN)));
  const aims: [string, boolean][] = [
    ['two nodes deliver >= 0.8x what one node does, saturated', ratio('cluster.throughput') >= 0.8],
    ['p99 at the paced rate < 2x one node\'s', ratio('cluster.p99') < 2],
    [`cross-node p99 at the paced rate < 2x one node's p99 (${format(crossOverOne, 2)}x)`, crossOverOne < 2],
    ['nothing lost or reordered at any receiver (checked in every phase; a loss fails the run)', true],
    [`(aim) server CPU per delivered line, saturated, Redis counted, <= 1.3x one node's (${format(ratio('cluster.saturated.cpuPerLine'), 2)}x)`, ratio('cluster.saturated.cpuPerLine') <= 1.3],
  ];
  return aims.map(([name, met]) => `  ${met ? 'met ' : 'MISS'}  ${name}`);
}

async function runCluster(): Promise<void> {
  if (flags.onlyCluster !== 'snapshot-flood') await runClusterFanOut();
  if (flags.onlyCluster !== 'fan-out') await runSnapshotFlood();
}

async function runClusterFanOut(): Promise<void> {
  const started = performance.now();
  const runs: [Figures, Figures][] = [];
  for (let run = 0; run < PLAN.runs; run += 1) {
    const two = new Map<string, number>();
    const one = new Map<string, number>();
    const order: [string, () => Promise<void>][] = [['two nodes', () => clusterLoad(2, two)], ['one node', () => clusterLoad(1, one)]];
    for (const [name, scenario] of run % 2 === 0 ? order : [...order].reverse()) {
      const at = performance.now();
      await scenario();
      process.stderr.write(`run ${run + 1}/${PLAN.runs} cluster, ${name}: ${format((performance.now() - at) / 1000, 1)} s\n`);
    }
    runs.push([two, one]);
  }
  const summary = summarize(runs);
  const rows = CLUSTER_METRICS.map(({ key, label, unit, digits }) => {
    const row = summary.get(key);
    return [label, unit, format(row?.chatd ?? Number.NaN, digits), format(row?.baseline ?? Number.NaN, digits), format(row?.ratio ?? Number.NaN, 2)];
  });
  process.stdout.write(
    `\ntwo chatd nodes on one Redis (${CLUSTER_USERS / 2} users each) vs one chatd (${CLUSTER_USERS}); ${QUICK ? 'quick' : 'full'}; ` +
      `median of ${PLAN.runs} run${PLAN.runs === 1 ? '' : 's'}; ratio = median of per-run two/one\n\n` +
      `${table([['figure', 'unit', 'two nodes', 'one node', 'ratio'], ...rows])}\n\n` +
      `aims\n${clusterVerdicts(summary).join('\n')}\n\nbenchmark took ${format((performance.now() - started) / 1000, 0)} s\n`,
  );
  const json = { mode: `cluster-${QUICK ? 'quick' : 'full'}`, runs: PLAN.runs, figures: Object.fromEntries(summary) };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

/**
 * The snapshot flood (issue 18, item 8): connections spread over two nodes each set a topic on a
 * room of their own, send long lines and leave; chat latency between two other users, one on
 * each node, is measured before, during and for two snapshot periods after. A 2-core machine
 * runs the issue's 1000 connections of 20 lines of 4 KB in 12 s; --quick runs 300 in 4 s.
 */
const FLOOD: Omit<FloodSpec, 'ports' | 'timeoutMs'> = {
  connections: QUICK ? 300 : 1000, lines: 20, lineBytes: 4000, spreadMs: QUICK ? 4000 : 12_000,
};
/** Latency is measured this long before the flood, and this long after it: the histories it left are written in snapshots then. */
const QUIET_MS = 3000;
/**
 * Two of the Redis bus's snapshot periods (SNAPSHOT_EVERY_MS, 5 s) and a second. A number of the
 * bench's own, not an import: where lib/bus keeps that constant moves between versions, and
 * bench/compare.sh builds this bench against older code.
 */
const SNAPSHOT_EVERY_MS = 5000;
const AFTER_FLOOD_MS = 2 * SNAPSHOT_EVERY_MS + 1000;
/** The aim: chat latency at p99 on every node while and after the flood. */
const FLOOD_P99_AIM_MS = 100;
const FLOOD_NODES = 2;

async function snapshotFlood(into: Figures): Promise<void> {
  const redis = await startRedis();
  const started: Child[] = [];
  let probe: Probe | undefined;
  try {
    const servers: Server[] = [];
    for (let node = 0; node < FLOOD_NODES; node += 1) {
      const child = Child.start(`chatd node ${node + 1} of ${FLOOD_NODES}`, 'serve.js', ['chatd', `redis=${redis.socket}`], []);
      started.push(child);
      servers.push({ child, port: (await child.request(undefined, 'listening', 15_000)).port });
    }
    probe = await Probe.start(servers.map((server) => server.port));
    probe.record();
    await sleep(QUIET_MS);
    const quiet = probe.stop();
    const flooder = Child.start('flooder', 'flood.js', [], []);
    started.push(flooder);
    const peakRss = servers.map((server) => rssBytes(server.child.pid));
    const sampler = setInterval(() => servers.forEach((server, node) => (peakRss[node] = Math.max(peakRss[node] ?? 0, rssBytes(server.child.pid)))), 50);
    probe.record();
    const timeoutMs = FLOOD.spreadMs + 120_000;
    const spec: FloodSpec = { ...FLOOD, ports: servers.map((server) => server.port), timeoutMs };
    const { result } = await flooder.request({ type: 'flood', spec }, 'flooded', timeoutMs);
    const during = probe.stop();
    probe.record();
    await sleep(AFTER_FLOOD_MS);
    const after = probe.stop();
    clearInterval(sampler);
    into.set('flood.seconds', result.floodMs / 1000);
    into.set('flood.completed', result.completed);
    into.set('flood.snapshotMiB', (await snapshotBytes(redis.socket)) / MIB);
    for (let node = 0; node < FLOOD_NODES; node += 1) {
      for (const [phase, latencies] of [['quiet', quiet[node] ?? []], ['during', during[node] ?? []], ['after', after[node] ?? []]] as const) {
        into.set(`flood.node${node}.${phase}.p50`, percentile(latencies, 0.5));
        into.set(`flood.node${node}.${phase}.p99`, percentile(latencies, 0.99));
        into.set(`flood.node${node}.${phase}.max`, percentile(latencies, 1));
        into.set(`flood.node${node}.${phase}.lines`, latencies.length);
      }
      into.set(`flood.node${node}.peakRssMiB`, (peakRss[node] ?? 0) / MIB);
    }
  } finally {
    probe?.close();
    await Promise.all(started.map((child) => child.stop()));
    await redis.stop();
  }
}

/** The bytes of the snapshot in Redis: the state and every room's history it names. */
async function snapshotBytes(socket: string): Promise<number> {
  const raw = new Redis(socket);
  try {
    const [state, named] = await raw.hmget('bench:snapshot', 'state', 'histories');
    const histories: unknown = JSON.parse(named ?? '{}');
    const keys = typeof histories === 'object' && histories !== null ? Object.entries(histories).map(([room, at]) => `bench:history:${room}:${String(at)}`) : [];
    const sizes = await Promise.all(keys.map((key) => raw.strlen(key)));
    return sizes.reduce((sum, size) => sum + size, Buffer.byteLength(state ?? ''));
  } finally {
    raw.disconnect();
  }
}

async function runSnapshotFlood(): Promise<void> {
  const started = performance.now();
  const runs: Figures[] = [];
  for (let run = 0; run < PLAN.runs; run += 1) {
    const figures: Figures = new Map();
    const at = performance.now();
    await snapshotFlood(figures);
    process.stderr.write(`run ${run + 1}/${PLAN.runs} snapshot flood: ${format((performance.now() - at) / 1000, 1)} s\n`);
    runs.push(figures);
  }
  const of = (key: string) => median(runs.map((figures) => figures.get(key) ?? Number.NaN));
  const nodes = Array.from({ length: FLOOD_NODES }, (_, node) => node);
  const row = (label: string, unit: string, key: (node: number) => string, digits: number) =>
    [label, unit, ...nodes.map((node) => format(of(key(node)), digits))];
  const phases = [['quiet', 'before the flood'], ['during', 'during the flood'], ['after', `in the ${AFTER_FLOOD_MS / 1000} s after it`]] as const;
  const rows = [
    ...phases.map(([phase, label]) =>
      row(`chat p50 / p99 / max ${label}`, 'ms', (node) => `flood.node${node}.${phase}.p50`, 1).map((cell, i) =>
        i < 2 ? cell : `${cell} / ${format(of(`flood.node${i - 2}.${phase}.p99`), 1)} / ${format(of(`flood.node${i - 2}.${phase}.max`), 0)}`)),
    row('chat lines measured during and after', 'lines', (node) => `flood.node${node}.during.lines`, 0).map((cell, i) =>
      i < 2 ? cell : `${cell} + ${format(of(`flood.node${i - 2}.after.lines`), 0)}`),
    row('peak RSS', 'MiB', (node) => `flood.node${node}.peakRssMiB`, 0),
  ];
  const aims = nodes.flatMap((node) => (['during', 'after'] as const).map((phase) => {
    const p99 = of(`flood.node${node}.${phase}.p99`);
    return `  ${p99 < FLOOD_P99_AIM_MS ? 'met ' : 'MISS'}  node ${node + 1}: chat p99 ${phase} the flood < ${FLOOD_P99_AIM_MS} ms (${format(p99, 1)} ms)`;
  }));
  process.stdout.write(
    `\nsnapshot flood on two chatd nodes: ${FLOOD.connections} connections, each a topic on a room of its own and ${FLOOD.lines} lines of ` +
      `${FLOOD.lineBytes} bytes, spread over ${FLOOD.spreadMs / 1000} s; ${QUICK ? 'quick' : 'full'}; median of ${PLAN.runs} run${PLAN.runs === 1 ? '' : 's'}\n` +
      `the flood took ${format(of('flood.seconds'), 1)} s, ${format(of('flood.completed'), 0)} connections completed; ` +
      `the snapshot in Redis after it: ${format(of('flood.snapshotMiB'), 1)} MiB\n\n` +
      `${table([['figure', 'unit', ...nodes.map((node) => `node ${node + 1}`)], ...rows])}\n\naims\n${aims.join('\n')}\n\n` +
      `benchmark took ${format((performance.now() - started) / 1000, 0)} s\n`,
  );
  const json = { mode: `snapshot-flood-${QUICK ? 'quick' : 'full'}`, runs: runs.map((figures) => Object.fromEntries(figures)) };
  process.stdout.write(`${JSON.stringify(json)}\n`);
}

function abort(message: string): void {
  for (const child of children) child.kill('SIGKILL');
  process.stderr.write(`bench FAILED: ${message}\n`);
  process.exit(1);
}

process.once('exit', () => children.forEach((child) => child.kill('SIGKILL')));
process.once('SIGINT', () => abort('interrupted'));
process.once('SIGTERM', () => abort('terminated'));
setTimeout(() => abort(`still running after ${PLAN.deadlineMs / 1000} s`), PLAN.deadlineMs).unref();
(flags.cluster ? runCluster() : flags.only === 'accounts' ? runAccounts(QUICK) : runAll()).catch((err: unknown) => abort(err instanceof Error ? err.message : String(err)));
