import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';

// Specs run against the build that `npm test` makes first, as a user runs it.
const CHATD = join(__dirname, '..', '..', 'bin', 'chatd');

export interface Run {
  readonly child: ChildProcess;
  /** Resolves with the first stdout line matching `pattern`. */
  readonly waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
  /** What the run has logged so far. */
  readonly log: () => string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

const running: ChildProcess[] = [];

/** Spawns bin/chatd with `args`; its environment is PATH and `env` alone. */
export function start(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const child = spawn(process.execPath, [CHATD, ...args], { env: { PATH: process.env['PATH'], ...env } });
  running.push(child);
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const waiter of waiters.splice(0)) {
      const match = stdout.match(waiter.pattern);
      if (match === null) waiters.push(waiter);
      else waiter.resolve(match);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<Awaited<Run['exited']>>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  const waitFor = (pattern: RegExp) =>
    new Promise<RegExpMatchArray>((resolve) => {
      const match = stdout.match(pattern);
      if (match === null) waiters.push({ pattern, resolve });
      else resolve(match);
    });
  return { child, waitFor, exited, log: () => stdout };
}

/** The port a `--host 127.0.0.1` run logs that it listens on. */
export async function listeningPort(run: Run): Promise<number> {
  const [, port] = await run.waitFor(/listening on 127\.0\.0\.1:(\d+)\n/);
  return Number(port);
}

/** Kills every run still going, for afterEach. */
export async function killAll(): Promise<void> {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
}
