import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Spec files under `folder` that need redis-server: those that call `describeWithRedis`. */
function redisSpecs(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.spec.ts'))
    .map((file) => join(folder, file))
    .filter((file) => readFileSync(file, 'utf8').includes('describeWithRedis('));
}

/**
 * Jest's global setup: on a machine without redis-server (and without CI set, where those specs
 * fail instead), one line for the whole run says which spec files are skipped and why.
 */
export default function sayWhatIsSkipped(): void {
  if (spawnSync('redis-server', ['--version']).error === undefined || process.env['CI'] !== undefined) return;
  const specs = join(__dirname, '..');
  const skipped = redisSpecs(specs).map((file) => relative(join(specs, '..'), file));
  process.stderr.write(`\nskipped ${skipped.length} spec files, redis-server is not installed (apt-get install redis-server): ${skipped.join(', ')}\n`);
}
