import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { request as httpRequest } from 'node:http';
import { connect, type Socket } from 'node:net';
import { type ChatServer, type ChatServerOptions, createChatServer, type ServerEvent } from '../../../lib/server';
import { DEFAULT_WEB_SETTINGS, MAX_MESSAGE_BYTES, MIN_PIECE_BYTES, type WebSettings } from '../../../lib/edge/web/door';
import { CONTENT_SECURITY_POLICY } from '../../../lib/edge/web/page';
import { BINARY_CLOSE } from '../../../lib/edge/web/stream';
import { connectClient, type Client } from '../../support/client';
import { connectWeb, refusal, type WebClient } from '../../support/web';

let server: ChatServer;
let events: ServerEvent[];
let onDisconnect: (error: string | undefined) => void = () => {};
const webClients: WebClient[] = [];
const tcpClients: Client[] = [];
const sockets: Socket[] = [];

async function start(web: Partial<WebSettings> = {}, options: Partial<ChatServerOptions> = {}): Promise<number> {
  events = [];
  server = createChatServer({ host: '127.0.0.1', port: 0, web: { ...DEFAULT_WEB_SETTINGS, port: 0, ...web }, onEvent: (event) => {
    events.push(event);
    if (event.kind === 'disconnect') onDisconnect(event.error);
  }, ...options });
  await server.listen();
  return server.webAddress()?.port ?? 0;
}

async function web(port: number, options: Parameters<typeof connectWeb>[1] = {}): Promise<WebClient> {
  const client = await connectWeb(`ws://127.0.0.1:${port}/chat`, options);
  webClients.push(client);
  return client;
}

async function webJoin(port: number, nick: string): Promise<WebClient> {
  const client = await web(port);
  await client.until('username: ');
  client.say(nick);
  await client.until(`*** ${nick} just joined the chatroom\n`);
  return client;
}

/** A raw TCP connection to the web port, for what a WebSocket client would not send. */
async function raw(port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  sockets.push(socket);
  await once(socket, 'connect');
  return socket;
}

afterEach(async () => {
  onDisconnect = () => {};
  for (const client of webClients.splice(0)) client.ws.terminate();
  for (const client of tcpClients.splice(0)) client.socket.destroy();
  for (const socket of sockets.splice(0)) socket.destroy();
  await server.close();
});

describe('the browser door over WebSocket', () => {
  it('carries the nc protocol: one message per line, newline included, and the prompt as a message of its own', async () => {
    const port = await start();
    const ann = await web(port);
    expect(await ann.until('username: ')).toEqual(["Welcome to Jen's chat server!\n", 'Please enter your username: ']);
  });

  it('puts a web user and an nc user in one chat', async () => {
    const port = await start();
    const ann = await webJoin(port, 'ann');
    const bob = await connectClient(server.address()?.port ?? 0);
    tcpClients.push(bob);
    await bob.until('username: ');
    bob.say('bob');
    await ann.until('*** bob just joined the chatroom\n');
    ann.say('hi bob');
    expect(await bob.until('hi bob\n')).toContain('[ann] hi bob\n');
    bob.say('hi ann');
    expect(await ann.until('hi ann')).toEqual(['[ann] hi bob\n', '[bob] hi ann\n']);
  });

  it('takes a message with newlines inside as several lines', async () => {
    const port = await start();
    const ann = await webJoin(port, 'ann');
    const bob = await webJoin(port, 'bob');
    ann.say('one\ntwo\r\nthree\n');
    expect(await bob.until('three')).toEqual(['[ann] one\n', '[ann] two\n', '[ann] three\n']);
  });

  it('serves the door alone: no plain port', async () => {
    const port = await start({}, { port: 'off' });
    expect(server.address()).toBeNull();
    const ann = await webJoin(port, 'ann');
    ann.say('/who');
    await ann.until('ann');
  });

  it('tells a web user the server is shutting down, then closes with 1000', async () => {
    const port = await start();
    const ann = await webJoin(port, 'ann');
    const closing = server.close();
    expect(await ann.until('shutting down')).toEqual(['*** server shutting down\n']);
    expect((await ann.closed).code).toBe(1000);
    await closing;
  });

  it('closes a binary message with 1003', async () => {
    const port = await start();
    const ann = await web(port);
    await ann.until('username: ');
    ann.ws.send(Buffer.from('ann'), { binary: true });
    expect(await ann.closed).toEqual({ code: BINARY_CLOSE.code, reason: BINARY_CLOSE.reason });
  });

  it("answers a line over --max-line-bytes with the chat's own reply", async () => {
    const port = await start({}, { maxLineBytes: 10 });
    const ann = await webJoin(port, 'ann');
    ann.say('x'.repeat(11));
    expect(await ann.until('line too long')).toEqual(['*** line too long (max 10 bytes)\n']);
  });

  it('closes a message over MAX_MESSAGE_BYTES with 1009', async () => {
    const port = await start();
    const ann = await webJoin(port, 'ann');
    ann.say('x'.repeat(MAX_MESSAGE_BYTES + 1));
    expect((await ann.closed).code).toBe(1009);
  });

  it('closes a message sent in more pieces than its longest size allows with 1008, before it costs chatd more than its sender', async () => {
    const port = await start();
    const ann = await webJoin(port, 'ann');
    const pieces = MAX_MESSAGE_BYTES / MIN_PIECE_BYTES;
    for (let piece = 0; piece <= pieces; piece++) ann.ws.send('x', { fin: false });
    ann.ws.send('\n', { fin: true });
    expect(await ann.until('[ann] x').then(() => 'delivered', () => 'closed')).toBe('closed');
    expect((await ann.closed).code).toBe(1008);
  });

  it('takes a message in fragments within that bound', async () => {
    const port = await start();
    const ann = await webJoin(port, 'ann');
    for (const piece of ['frag', 'men', 'ted']) ann.ws.send(piece, { fin: false });
    ann.ws.send('\n', { fin: true });
    expect(await ann.until('[ann] ')).toEqual(['[ann] fragmented\n']);
  });

  it('holds the bytes before login as over TCP', async () => {
    const port = await start({}, { maxLoginBytes: 100 });
    const ann = await web(port);
    await ann.until('username: ');
    ann.say('x'.repeat(80));
    ann.say('x'.repeat(80));
    expect((await ann.closed).code).toBe(1000);
  });

  it('times out a login as over TCP, and closes with 1000', async () => {
    const port = await start({}, { loginTimeoutMs: 50 });
    const ann = await web(port);
    await ann.until('login timed out');
    expect((await ann.closed).code).toBe(1000);
  });

  it('drops a peer that answers no ping', async () => {
    const port = await start({ pingIntervalMs: 20 });
    const ann = await web(port, { autoPong: false });
    const bob = await web(port);
    expect((await ann.closed).code).toBe(1006); // cut off: no close frame
    await bob.until('username: '); // who answers stays
    expect(bob.ws.readyState).toBe(bob.ws.OPEN);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'disconnect', error: 'CHAT_WEB_NO_PONG' }));
  });

  it('counts a connection against --max-clients from accept, before any request', async () => {
    const port = await start({}, { maxClients: 1 });
    const idle = await raw(port);
    expect(await refusal(`ws://127.0.0.1:${port}/chat`)).toBe('ECONNRESET'); // cut off, before a word of HTTP
    idle.destroy();
    // Its place is free again once the server has seen it close, which no event here tells.
    while ((await refusal(`ws://127.0.0.1:${port}/chat`)) !== 'open');
  });

  it('cuts off a web reader past --max-send-queue, as over TCP', async () => {
    const cut = new Promise<void>((resolve) => (onDisconnect = (error) => error === 'CHAT_SEND_QUEUE_FULL' && resolve()));
    const port = await start({}, { maxSendQueueBytes: 64 * 1024, rateLimits: { linesPerSecond: 1e9, burstLines: 1e9, maxQueuedLines: 1e9 } });
    const stuck = await raw(port); // upgrades, logs in, and never reads again
    stuck.write(`GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    stuck.write(Buffer.from([0x81, 0x85, 0, 0, 0, 0, ...Buffer.from('stuck')])); // a client's frame is masked: a zero mask
    stuck.pause();
    const bob = await webJoin(port, 'bob');
    let done = false;
    void cut.then(() => (done = true));
    for (let line = 0; !done; line++) {
      bob.say(`${line} ${'x'.repeat(1000)}`);
      if (line % 50 === 49) await bob.until(`[bob] ${line} `); // bob reads his own, so only stuck falls behind
      if (line > 100_000) throw new Error('never cut off');
    }
    await cut;
  });

  it('counts a web connection against the per-address limit, and says so in the log', async () => {
    const port = await start({}, { exemptAddresses: [], maxConnectionsPerAddress: 1 });
    await web(port);
    expect(await refusal(`ws://127.0.0.1:${port}/chat`)).toBe('ECONNRESET');
    expect(events).toContainEqual({ kind: 'per_address', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/) });
  });

  it('closes an unfinished upgrade after the request time limit', async () => {
    const port = await start({}, { loginTimeoutMs: 100 });
    const socket = await raw(port);
    socket.write('GET /chat HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n');
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it('refuses headers past their size limit', async () => {
    const port = await start();
    const socket = await raw(port);
    let answer = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'x'.repeat(10_000)}\r\n\r\n`);
    await once(socket, 'close');
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
  });
});

describe('who may open the WebSocket', () => {
  it("lets on the page's own origin and no origin; refuses another with 403", async () => {
    const port = await start();
    const url = `ws://127.0.0.1:${port}/chat`;
    expect(await refusal(url, { origin: `http://127.0.0.1:${port}` })).toBe('open');
    expect(await refusal(url)).toBe('open');
    expect(await refusal(url, { origin: 'https://evil.example' })).toBe(403);
    expect(await refusal(url, { origin: `https://127.0.0.1:${port}` })).toBe(403); // another scheme is another origin
  });

  it('lets on the origins --web-origins lists', async () => {
    const port = await start({ origins: ['https://chat.example.org'] });
    const url = `ws://127.0.0.1:${port}/chat`;
    expect(await refusal(url, { origin: 'https://chat.example.org' })).toBe('open');
    expect(await refusal(url, { origin: 'https://other.example.org' })).toBe(403);
  });

  it('answers 404 to an upgrade elsewhere than /chat', async () => {
    const port = await start();
    expect(await refusal(`ws://127.0.0.1:${port}/elsewhere`)).toBe(404);
  });
});

describe('behind a trusted proxy', () => {
  const forwarded = { 'x-forwarded-for': '198.51.100.7, 203.0.113.9', 'x-forwarded-proto': 'https' };

  it("takes the client's address from X-Forwarded-For and https from X-Forwarded-Proto", async () => {
    const port = await start({ trustProxy: ['127.0.0.0/8'] });
    await web(port, { headers: forwarded });
    expect(events).toContainEqual({ kind: 'connect', id: '1', from: expect.stringMatching(/^203\.0\.113\.9 via 127\.0\.0\.1:\d+$/), tls: true });
  });

  it('walks X-Forwarded-For past the trusted hops to the rightmost that is not one', async () => {
    const port = await start({ trustProxy: ['127.0.0.1', '203.0.113.0/24'] });
    await web(port, { headers: forwarded });
    expect(events).toContainEqual(expect.objectContaining({ kind: 'connect', from: expect.stringMatching(/^198\.51\.100\.7 via /) }));
  });

  it('ignores the headers from an address it does not trust, and without --trust-proxy', async () => {
    for (const trustProxy of [['10.0.0.0/8'], []]) {
      const port = await start({ trustProxy });
      await web(port, { headers: forwarded });
      expect(events).toContainEqual({ kind: 'connect', id: '1', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/), tls: false });
      await server.close();
    }
  });

  it('asks for passwords over https as a proxy forwards it, and refuses them over plain http', async () => {
    const port = await start({ trustProxy: ['127.0.0.1'] }, { requireTlsForPasswords: true });
    const plain = await web(port);
    await plain.until('username: ');
    plain.say('ann');
    await plain.until('joined');
    plain.say('/register secret123');
    await plain.until('TLS only');
    const proxied = await web(port, { headers: { 'x-forwarded-proto': 'https' } });
    await proxied.until('username: ');
    proxied.say('bob');
    await proxied.until('joined');
    proxied.say('/register secret123');
    expect(await proxied.until('registered')).toEqual(['*** bob is registered to you; logging in with it will ask for your password\n']);
  });
});

describe('the page over HTTP', () => {
  const get = (port: number, path: string, method = 'GET') =>
    new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, path, method }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk)).on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject).end();
    });

  it('serves the page, its style and its script with a policy against inline script and framing', async () => {
    const port = await start();
    const page = await get(port, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe-inline');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    expect(page.body).toContain('<script src="app.js"');
    expect((await get(port, '/app.js')).headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect((await get(port, '/style.css')).status).toBe(200);
  });

  it('answers 404 to another path and 405 to another method', async () => {
    const port = await start();
    expect((await get(port, '/../package.json')).status).toBe(404);
    expect((await get(port, '/', 'POST')).status).toBe(405);
  });

  it("answers the browser's icon request with 204, no error in the page's console", async () => {
    const port = await start();
    const icon = await get(port, '/favicon.ico');
    expect(icon.status).toBe(204);
    expect(icon.body).toBe('');
    expect(icon.headers['x-content-type-options']).toBe('nosniff');
    expect(icon.headers['content-length']).toBeUndefined();
  });
});
