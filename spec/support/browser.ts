import { spawnSync } from 'node:child_process';
import { type Browser, launch } from 'puppeteer-core';

/** The system's chromium (Debian's package), or undefined when it is not installed: nothing here downloads a browser. */
export function chromiumPath(): string | undefined {
  for (const name of ['chromium', 'chromium-browser']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).stdout.trim();
    if (found !== '') return found;
  }
  return undefined;
}

/** Launches chromium headless. In a container it has no user namespaces to sandbox itself with. */
export function launchChromium(executablePath: string): Promise<Browser> {
  return launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
}
