import type { Browser, Page } from 'puppeteer-core';
import { DEFAULT_WEB_SETTINGS } from '../lib/edge/web/door';
import { type ChatServer, createChatServer } from '../lib/server';
import { chromiumPath, launchChromium } from './support/browser';
import { type Client, connectClient } from './support/client';

const chromium = chromiumPath();
const withChromium = chromium !== undefined ? describe : process.env['CI'] === undefined ? describe.skip : describe;
if (chromium === undefined && process.env['CI'] === undefined) process.stderr.write('\nskipped the browser specs: chromium is not installed (apt-get install chromium)\n');

/** A chat page's view: what its log shows, and a way to type. */
async function typeLine(page: Page, text: string): Promise<void> {
  await page.type('#input', text);
  await page.keyboard.press('Enter');
}

// Page-side code is given as strings: the specs compile without the DOM's types.
/** Waits until `expression` is true in the page, looking at each change of the page: a page in a
 * background tab has no animation frames, puppeteer's default. */
const until = (page: Page, expression: string, timeout = 10_000) => page.waitForFunction(expression, { timeout, polling: 'mutation' });

/** The value of `expression` in the page. */
const read = (page: Page, expression: string): Promise<unknown> => page.evaluate(expression);

const logHas = (page: Page, text: string) =>
  until(page, `[...document.querySelectorAll('#log li')].some((item) => item.textContent === ${JSON.stringify(text)})`);

const promptIs = (page: Page, text: string) => until(page, `document.querySelector('#prompt').textContent === ${JSON.stringify(text)}`);

withChromium('the page in a real browser (Debian chromium, puppeteer-core)', () => {
  let browser: Browser;
  let server: ChatServer;
  let webPort = 0;
  const tcp: Client[] = [];

  const startServer = async (port: number) => {
    server = createChatServer({ host: '127.0.0.1', port: 0, web: { ...DEFAULT_WEB_SETTINGS, port } });
    await server.listen();
    webPort = server.webAddress()?.port ?? 0;
  };

  const openPage = async (nick?: string): Promise<Page> => {
    const page = await browser.newPage();
    page.on('dialog', () => {
      throw new Error('a dialog opened: a line ran as script');
    });
    await page.goto(`http://127.0.0.1:${webPort}/`);
    await promptIs(page, 'Please enter your username:');
    if (nick !== undefined) {
      await read(page, "document.querySelector('#input').value = ''"); // not the last name offered
      await typeLine(page, nick);
      await logHas(page, `*** ${nick} just joined the chatroom`);
    }
    return page;
  };

  beforeAll(async () => {
    browser = await launchChromium(chromium ?? 'chromium');
  }, 30_000);
  afterAll(async () => {
    await browser.close();
  });
  beforeEach(async () => startServer(0));
  afterEach(async () => {
    for (const page of await browser.pages()) await page.close();
    for (const client of tcp.splice(0)) client.socket.destroy();
    await server.close();
  });

  it('puts two pages and an nc user in one chat; own lines, private messages and notices look different', async () => {
    const ann = await openPage('ann');
    const bob = await openPage('bob');
    const cy = await connectClient(server.address()?.port ?? 0);
    tcp.push(cy);
    await cy.until('username: ');
    cy.say('cy');
    await logHas(ann, '*** cy just joined the chatroom');
    await typeLine(ann, 'hello both');
    await logHas(bob, '[ann] hello both');
    await cy.until('[ann] hello both\n');
    cy.say('hi from nc');
    await logHas(ann, '[cy] hi from nc');
    await logHas(bob, '[cy] hi from nc');
    await typeLine(bob, '/msg ann psst');
    await logHas(ann, '[PM from bob] psst');
    const kinds = await read(ann, "Object.fromEntries([...document.querySelectorAll('#log li')].map((item) => [item.textContent, item.className]))");
    expect(kinds).toMatchObject({ '[ann] hello both': 'own', '[cy] hi from nc': 'chat', '[PM from bob] psst': 'private', '*** cy just joined the chatroom': 'notice' });
  }, 30_000);

  it('shows markup as characters, and makes http links clickable and safe', async () => {
    const ann = await openPage('ann');
    const bob = await openPage('bob');
    await typeLine(ann, '<img src=x onerror=alert(1)> see https://example.org/a?b=1');
    await logHas(bob, '[ann] <img src=x onerror=alert(1)> see https://example.org/a?b=1');
    expect(await read(bob, "document.querySelectorAll('#log img').length")).toBe(0);
    const link = await read(bob, "(({ href, rel }) => ({ href, rel }))(document.querySelector('#log a'))");
    expect(link).toEqual({ href: 'https://example.org/a?b=1', rel: 'noopener noreferrer' });
  }, 30_000);

  it('keeps what is typed while lines arrive; recalls sent lines; completes names with Tab; fits a phone', async () => {
    const ann = await openPage('ann');
    const bob = await openPage('bob');
    await bob.setViewport({ width: 360, height: 640 });
    await bob.type('#input', 'half a thou');
    await typeLine(ann, 'interrupting');
    await logHas(bob, '[ann] interrupting');
    expect(await read(bob, "document.querySelector('#input').value")).toBe('half a thou');
    await bob.keyboard.press('Enter');
    await logHas(bob, '[bob] half a thou');
    await bob.keyboard.press('ArrowUp');
    expect(await read(bob, "document.querySelector('#input').value")).toBe('half a thou');
    await bob.keyboard.press('ArrowDown');
    await bob.type('#input', 'a');
    await bob.keyboard.press('Tab');
    expect(await read(bob, "document.querySelector('#input').value")).toBe('ann: ');
    expect(await read(bob, "document.documentElement.scrollWidth <= 360")).toBe(true);
    expect(await read(bob, "[document.querySelector('#log').getAttribute('role'), document.querySelector('#log').getAttribute('aria-live')]")).toEqual(['log', 'polite']);
  }, 30_000);

  it('sends a pasted block as its lines, and keeps its unfinished last line to edit', async () => {
    const ann = await openPage('ann');
    const bob = await openPage('bob');
    await ann.type('#input', 'first: ');
    // What a paste of three lines fires; an input's own paste would run them together.
    await read(ann, `(() => {
      const data = new DataTransfer();
      data.setData('text/plain', 'one\\ntwo\\r\\nthree');
      document.querySelector('#input').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    })()`);
    await logHas(bob, '[ann] first: one');
    await logHas(bob, '[ann] two');
    expect(await read(ann, "document.querySelector('#input').value")).toBe('three');
    await ann.keyboard.press('Enter');
    await logHas(bob, '[ann] three');
  }, 30_000);

  it('masks the input at the password prompt, shows it again once sent, and keeps no password for up and down', async () => {
    const ann = await openPage('ann');
    await typeLine(ann, 'before');
    await typeLine(ann, '/register secret123');
    await logHas(ann, '*** ann is registered to you; logging in with it will ask for your password');
    await ann.keyboard.press('ArrowUp'); // a command whose words are passwords is not kept for up and down
    expect(await read(ann, "document.querySelector('#input').value")).toBe('before');
    await ann.close();
    const again = await openPage();
    await read(again, "document.querySelector('#input').value = ''");
    await typeLine(again, 'ann');
    await promptIs(again, 'Password:');
    expect(await read(again, "document.querySelector('#input').type")).toBe('password');
    await typeLine(again, 'secret123');
    await logHas(again, '*** ann just joined the chatroom');
    expect(await read(again, "document.querySelector('#input').type")).toBe('text');
  }, 30_000);

  it('knows its own name after a login that takes over another connection of it', async () => {
    const ann = await openPage('ann');
    await typeLine(ann, '/register secret123');
    await logHas(ann, '*** ann is registered to you; logging in with it will ask for your password');
    const again = await openPage();
    await read(again, "document.querySelector('#input').value = ''");
    await typeLine(again, 'ann');
    await promptIs(again, 'Password:');
    await typeLine(again, 'secret123');
    await until(again, "[...document.querySelectorAll('#log li')].some((item) => item.textContent.startsWith('*** your other connection was closed'))");
    await typeLine(again, 'still me');
    await logHas(again, '[ann] still me');
    const kind = await read(again, "[...document.querySelectorAll('#log li')].find((item) => item.textContent === '[ann] still me').className");
    expect(kind).toBe('own');
  }, 30_000);

  it('says the connection is lost, reconnects once the server is back, offers the last name again, and keeps what was typed meanwhile for after the login', async () => {
    const ann = await openPage('ann');
    const port = webPort;
    await server.close();
    await until(ann, "document.querySelector('#status').dataset.state === 'lost'");
    expect(await read(ann, "document.querySelector('#status').textContent")).toMatch(/^connection lost; retrying in \d+ s$/);
    await ann.type('#input', 'typed while away');
    await startServer(port);
    await until(ann, "document.querySelector('#status').textContent === 'connected'", 20_000);
    await promptIs(ann, 'Please enter your username:');
    expect(await read(ann, "document.querySelector('#input').value")).toBe('ann');
    await ann.keyboard.press('Enter');
    await until(ann, "[...document.querySelectorAll('#log li')].filter((item) => item.textContent === '*** ann just joined the chatroom').length === 2");
    expect(await read(ann, "document.querySelector('#input').value")).toBe('typed while away');
  }, 30_000);
});
