// `npm run screenshot`: doc/browser.png, two users chatting in the browser door (README's picture).
// Plain JavaScript on the build (npm run build first, which the npm script does), driving the
// system's chromium through puppeteer-core, as the browser specs do.
'use strict';
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { launch } = require('puppeteer-core');
const { createChatServer } = require('../dist/lib/server');
const { DEFAULT_WEB_SETTINGS } = require('../dist/lib/edge/web/door');

const OUT = join(__dirname, '..', 'doc', 'browser.png');

async function say(page, text, expected) {
  await page.type('#input', text);
  await page.keyboard.press('Enter');
  if (expected !== undefined) await seen(page, expected);
}

const seen = (page, text) =>
  page.waitForFunction((wanted) => [...document.querySelectorAll('#log li')].some((item) => item.textContent === wanted), { polling: 'mutation' }, text);

async function open(browser, port, nick) {
  const page = await browser.newPage();
  await page.setViewport({ width: 760, height: 480, deviceScaleFactor: 1 });
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => document.querySelector('#prompt').textContent === 'Please enter your username:', { polling: 'mutation' });
  await page.$eval('#input', (input) => { input.value = ''; });
  await say(page, nick, `*** ${nick} just joined the chatroom`);
  return page;
}

async function main() {
  const executablePath = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
  const server = createChatServer({ host: '127.0.0.1', port: 0, banner: 'Welcome to chatd!', web: { ...DEFAULT_WEB_SETTINGS, port: 0 } });
  await server.listen();
  const port = server.webAddress().port;
  const browser = await launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'] });
  try {
    const ann = await open(browser, port, 'ann');
    const bob = await open(browser, port, 'bob');
    await say(ann, 'hi bob! the notes are at https://example.org/notes', '[ann] hi bob! the notes are at https://example.org/notes');
    await say(bob, 'thanks, reading them now', '[bob] thanks, reading them now');
    await seen(ann, '[bob] thanks, reading them now');
    await say(bob, '/me waves from a browser tab');
    await seen(ann, '* bob waves from a browser tab');
    await say(bob, '/msg ann lunch at noon?', '[PM to ann] lunch at noon?');
    await seen(ann, '[PM from bob] lunch at noon?');
    await ann.type('#input', 'sure, see you th');
    await ann.screenshot({ path: OUT });
    process.stdout.write(`wrote ${OUT}\n`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err) => {
  process.stderr.write(`screenshot: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
