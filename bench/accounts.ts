/**
 * `npm run bench -- --only accounts`: chat latency between two users while a few connections
 * register names one after the other, on a data folder that already holds ACCOUNTS accounts
 * (#18, item 4). chatd alone: the baseline keeps no accounts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import split2 from 'split2';

/** Accounts in the data folder before the run, as the attack left about 200,000. */
export const ACCOUNTS = 100_000;
/** Connections registering at once, each one name after the other. */
export const REGISTRANTS = 5;
/** How often the speaker says a line, for the listener to time. */
const SPEAK_EVERY_MS = 20;
const PASSWORD = 'bench-password';
/** The aim of the issue: chat between two users stays this quick while names are registered. */
const AIM_P99_MS = 50;

/** The data file of chatd before the log (chatd.json), which chatd moves into its log at start: the start measures that too. */
function writeAccounts(dir: string): void {
  const accounts: Record<string, unknown> = {};
  const registeredAt = Date.now();
  for (let n = 0; n < ACCOUNTS; n += 1) {
    accounts[`held${n}`] = { name: `held${n}`, salt: 'c2FsdHNhbHRzYWx0c2FsdA==', hash: Buffer.alloc(64, n % 256).toString('base64'), cost: 16384, registeredAt };
  }
  writeFileSync(join(dir, 'chatd.json'), JSON.stringify({ accounts, ops: [], bans: [], motd: '' }), { mode: 0o600 });
}

/** The data file's size: the log, or chatd.json for a chatd from before it. */
function dataFileBytes(dir: string): number {
  for (const name of ['chatd.jsonl', 'chatd.json']) {
    try {
      return statSync(join(dir, name)).size;
    } catch {
      // not this one
    }
  }
  return Number.NaN;
}

/** Starts chatd (the bench's build of it) on `dir`; resolves with its process and port, and how long it took to load. */
async function startChatd(dir: string): Promise<{ child: ChildProcess; port: number; startMs: number }> {
  const cli = join(__dirname, '..', 'lib', 'cli', 'main.js');
  const args = ['--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--rate', '1000', '--burst', '1000'];
  // By the environment: a chatd from before the limit (to compare) ignores it rather than refusing a flag.
  const env = { ...process.env, CHATD_MAX_REGISTRATIONS_PER_HOUR: '1000000' };
  const started = performance.now();
  const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(cli)}).run(process.argv.slice(1))`, '--', ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const lines = child.stdout?.pipe(split2());
    lines?.on('data', (line: string) => {
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(line);
      if (match?.[1] !== undefined) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`chatd exited (${code}) before listening`)));
  });
  return { child, port, startMs: performance.now() - started };
}

/** A logged-in connection, its lines read as they come. */
interface User {
  readonly socket: Socket;
  /** Resolves with the next line matching `pattern`. */
  next(pattern: RegExp): Promise<string>;
  /** Calls `each` with every line from now on. */
  onLine(each: (line: string) => void): void;
}

async function logIn(port: number, nick: string): Promise<User> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {}); // the run ends by closing everything; a reset then is no failure
  await once(socket, 'connect');
  const listeners = new Set<(line: string) => void>();
  socket.pipe(split2()).on('data', (line: string) => listeners.forEach((listener) => listener(line)));
  const next = (pattern: RegExp) =>
    new Promise<string>((resolve) => {
      const listener = (line: string) => {
        if (!pattern.test(line)) return;
        listeners.delete(listener);
        resolve(line);
      };
      listeners.add(listener);
    });
  const welcome = next(/^Welcome/);
  socket.write(`${nick}\n`);
  await welcome;
  return { socket, next, onLine: (each) => listeners.add(each) };
}

/** Registers name after name until `running()` is false; resolves with how many it registered. */
async function register(user: User, id: number, running: () => boolean): Promise<number> {
  let registered = 0;
  for (let n = 0; running(); n += 1) {
    const answer = user.next(/registered to you|already registered|is taken|is registered|too many|could not save/);
    user.socket.write(`/nick reg${String.fromCharCode(97 + id)}${n}\n/register ${PASSWORD}\n`);
    if (/registered to you/.test(await answer)) registered += 1;
  }
  return registered;
}

/** The p-th percentile of sorted `values`. */
const percentile = (values: readonly number[], p: number): number => values[Math.min(values.length - 1, Math.floor((values.length * p) / 100))] ?? Number.NaN;

/** Runs the scenario and prints its figures; `quick` shortens it. */
export async function runAccounts(quick: boolean): Promise<void> {
  const durationMs = quick ? 5_000 : 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'chatd-bench-accounts-'));
  let chatd: ChildProcess | undefined;
  const users: User[] = [];
  try {
    writeAccounts(dir);
    const started = await startChatd(dir);
    chatd = started.child;
    const [speaker, listener] = [await logIn(started.port, 'speaker'), await logIn(started.port, 'listener')];
    users.push(speaker, listener);
    const latencies: number[] = [];
    listener.onLine((line) => {
      const sent = /^\[speaker\] t=([\d.]+)$/.exec(line)?.[1];
      if (sent !== undefined) latencies.push(performance.now() - Number(sent));
    });
    const registrants = await Promise.all(Array.from({ length: REGISTRANTS }, (_, id) => logIn(started.port, `registrant${id}`)));
    users.push(...registrants);
    const until = performance.now() + durationMs;
    const running = () => performance.now() < until;
    const registering = Promise.all(registrants.map((user, id) => register(user, id, running)));
    const speaking = setInterval(() => speaker.socket.write(`t=${performance.now()}\n`), SPEAK_EVERY_MS);
    const registered = (await registering).reduce((sum, each) => sum + each, 0);
    clearInterval(speaking);
    latencies.sort((a, b) => a - b);
    const figures = {
      accounts: ACCOUNTS,
      startSeconds: started.startMs / 1000,
      registrations: registered,
      registrationsPerSecond: registered / (durationMs / 1000),
      chatLines: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? Number.NaN,
      dataFileMiB: dataFileBytes(dir) / 1024 / 1024,
    };
    const met = figures.p99Ms < AIM_P99_MS ? 'met ' : 'MISS';
    process.stdout.write(
      `\naccounts: ${ACCOUNTS} in the data folder, ${REGISTRANTS} connections registering, ${durationMs / 1000} s\n\n` +
        `  start, ${ACCOUNTS} accounts read from chatd.json (moved into the log by chatd since #18): ${figures.startSeconds.toFixed(2)} s\n` +
        `  registrations: ${registered} (${figures.registrationsPerSecond.toFixed(1)}/s)\n` +
        `  chat latency between two others, ${latencies.length} lines: p50 ${figures.p50Ms.toFixed(2)} ms, p99 ${figures.p99Ms.toFixed(2)} ms, max ${figures.maxMs.toFixed(2)} ms\n` +
        `  data file after: ${figures.dataFileMiB.toFixed(1)} MiB\n\n` +
        `aims\n  ${met}  chat p99 < ${AIM_P99_MS} ms while names are registered\n\n${JSON.stringify({ mode: 'accounts', figures })}\n`,
    );
  } finally {
    for (const { socket } of users) socket.destroy();
    if (chatd !== undefined && chatd.exitCode === null) {
      const exited = once(chatd, 'exit');
      chatd.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
