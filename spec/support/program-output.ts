import type { ChildProcessWithoutNullStreams } from 'node:child_process';

/**
 * What a spawned program (a real client under `script`) has printed, awaited line by line: the
 * returned function resolves with everything printed so far once it holds `expected`, and
 * rejects if the program ends first. No timer: each chunk of output wakes the wait.
 */
export function programOutput(child: ChildProcessWithoutNullStreams, name: string): (expected: string) => Promise<string> {
  let printed = '';
  let wake = () => {};
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    printed += chunk;
    wake();
  });
  child.on('exit', () => wake());
  return async (expected: string): Promise<string> => {
    while (!printed.includes(expected)) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited before ${JSON.stringify(expected)}: ${JSON.stringify(printed)}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return printed;
  };
}
