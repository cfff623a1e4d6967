import { once } from 'node:events';
import { copyFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { TlsFilesError } from '../lib/edge/listeners';
import { type ChatServer, createChatServer, type ServerEvent } from '../lib/server';
import { type Client, connectClient } from './support/client';
import { type CertificateFiles, connectTlsClient, peerName, useCertificates } from './support/tls';

const certificates = useCertificates();
let live: CertificateFiles; // the files the server reads: `first` copied, until a spec swaps them
let server: ChatServer | undefined;
let events: ServerEvent[];
let reported: (event: ServerEvent) => void;
const clients: Client[] = [];

beforeEach(async () => {
  live = { certFile: `${certificates.dir()}/live.crt`, keyFile: `${certificates.dir()}/live.key` };
  await certificates.install(certificates.first(), live);
  events = [];
  reported = () => {};
});

afterEach(async () => {
  for (const { socket } of clients.splice(0)) socket.destroy();
  await server?.close();
  server = undefined;
});

async function startTls(options: Partial<Parameters<typeof createChatServer>[0]> = {}): Promise<{ plain: number; tls: number }> {
  server = createChatServer({
    host: '127.0.0.1', port: 0, tls: { port: 0, ...live }, ...options,
    onEvent: (event) => {
      events.push(event);
      reported(event);
    },
  });
  await server.listen();
  return { plain: server.address()?.port ?? -1, tls: server.tlsAddress()?.port ?? -1 };
}

/** Resolves with the first event, reported from now on, that `matches`. */
const nextEvent = (matches: (event: ServerEvent) => boolean): Promise<ServerEvent> =>
  new Promise((resolve) => {
    reported = (event) => { if (matches(event)) resolve(event); };
  });

async function tlsClient(port: number): Promise<Awaited<ReturnType<typeof connectTlsClient>>> {
  const client = await connectTlsClient(port);
  clients.push(client);
  return client;
}

async function plainClient(port: number): Promise<Client> {
  const client = await connectClient(port);
  clients.push(client);
  return client;
}

describe('TLS', () => {
  it('serves one chat to a TLS user and a plain user', async () => {
    const ports = await startTls();
    const ann = await tlsClient(ports.tls);
    expect(ann.socket.getProtocol()).toMatch(/^TLSv1\.[23]$/);
    expect(await ann.until('username: ')).toBe("Welcome to Jen's chat server!\nPlease enter your username: ");
    ann.say('ann');
    expect(await ann.until('chatroom\n')).toBe('Welcome, ann\n*** ann just joined the chatroom\n');
    const bob = await plainClient(ports.plain);
    bob.say('bob');
    await bob.until('*** bob just joined the chatroom\n');
    await ann.until('*** bob just joined the chatroom\n');
    ann.say('hi over TLS');
    expect(await bob.until('\n')).toBe('[ann] hi over TLS\n');
    bob.say('hi in clear');
    expect(await ann.until('in clear\n')).toBe('[ann] hi over TLS\n[bob] hi in clear\n');
    expect(events).toContainEqual({ kind: 'connect', id: '1', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/), tls: true });
    expect(events).toContainEqual({ kind: 'connect', id: '2', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/), tls: false });
  });

  it('serves TLS alone when the plain port is off', async () => {
    const ports = await startTls({ port: 'off' });
    expect(server?.address()).toBeNull();
    const ann = await tlsClient(ports.tls);
    ann.say('ann');
    await ann.until('*** ann just joined the chatroom\n');
  });

  it('refuses a client that offers TLS 1.1 at most, logs it, and serves on', async () => {
    const ports = await startTls();
    const failed = nextEvent((event) => event.kind === 'handshake-failed');
    const old = connectTls({ port: ports.tls, host: '127.0.0.1', rejectUnauthorized: false, maxVersion: 'TLSv1.1', minVersion: 'TLSv1' });
    const refused = new Promise((resolve) => old.once('error', resolve));
    await new Promise((resolve) => old.once('close', resolve)); // once() would reject on the 'error'
    expect(await refused).toEqual(expect.objectContaining({ code: expect.stringMatching(/^ERR_SSL_/) }));
    expect(await failed).toEqual({ kind: 'handshake-failed', from: expect.stringMatching(/^127\.0\.0\.1:\d+$/), reason: expect.any(String) });
    const ann = await tlsClient(ports.tls);
    ann.say('ann');
    await ann.until('*** ann just joined the chatroom\n');
  });

  it('logs and closes a connection that sends no handshake but garbage', async () => {
    const ports = await startTls();
    const failed = nextEvent((event) => event.kind === 'handshake-failed');
    const raw = connect(ports.tls, '127.0.0.1');
    raw.on('error', () => {});
    raw.end('Please enter your username: ann\n');
    await once(raw, 'close');
    expect(await failed).toEqual(expect.objectContaining({ kind: 'handshake-failed' }));
    expect(server?.users()).toEqual([]);
  });

  it('drops a connection whose handshake outlasts the login timeout', async () => {
    const ports = await startTls({ loginTimeoutMs: 200 });
    const failed = nextEvent((event) => event.kind === 'handshake-failed');
    const silent = connect(ports.tls, '127.0.0.1');
    silent.on('error', () => {});
    await once(silent, 'close');
    expect(await failed).toEqual(expect.objectContaining({ kind: 'handshake-failed', reason: 'ERR_TLS_HANDSHAKE_TIMEOUT' }));
  });

  it('closes without waiting for a handshake in progress', async () => {
    const ports = await startTls();
    const silent = connect(ports.tls, '127.0.0.1');
    silent.on('error', () => {});
    await once(silent, 'connect');
    await server?.close(); // the default login timeout, a minute, would fail the spec's own
    await once(silent, 'close');
  });

  it('hands new connections the reloaded certificate, and keeps the old one for those in', async () => {
    const ports = await startTls();
    const ann = await tlsClient(ports.tls);
    expect(peerName(ann.socket)).toBe('first');
    ann.say('ann');
    await ann.until('chatroom\n');
    await certificates.install(certificates.second(), live);
    await server?.reloadTls();
    const bob = await tlsClient(ports.tls);
    expect(peerName(bob.socket)).toBe('second');
    bob.say('bob');
    await bob.until('chatroom\n');
    ann.say('still on the first');
    expect(await bob.until('first\n')).toBe('[ann] still on the first\n');
  });

  it('keeps the pair in use when a reload finds a bad file, a missing one, or a key of another certificate', async () => {
    const ports = await startTls();
    await writeFile(live.certFile, 'not a certificate');
    await expect(server?.reloadTls()).rejects.toThrow(expect.objectContaining({ code: 'CHAT_TLS_FILES' }));
    await copyFile(certificates.first().certFile, live.certFile);
    await copyFile(certificates.second().keyFile, live.keyFile);
    await expect(server?.reloadTls()).rejects.toThrow(TlsFilesError);
    await expect(createChatServer({ port: 0, tls: { port: 0, certFile: `${certificates.dir()}/none.crt`, keyFile: live.keyFile } }).listen())
      .rejects.toThrow(`cannot read TLS certificate ${certificates.dir()}/none.crt`);
    const ann = await tlsClient(ports.tls);
    expect(peerName(ann.socket)).toBe('first');
  });
});
