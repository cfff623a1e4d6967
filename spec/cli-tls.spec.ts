import { writeFile } from 'node:fs/promises';
import type { Socket } from 'node:net';
import { usage } from '../lib/cli/help';
import { DEFAULT_LOG_OPTIONS } from '../lib/cli/log';
import { parseCommand } from '../lib/cli/settings';
import { type Client, connectClient } from './support/client';
import { killAll, listeningPort, type Run, start } from './support/chatd';
import { type CertificateFiles, clientHello, connectTlsClient, peerName, stalledHandshake, useCertificates } from './support/tls';

const certificates = useCertificates();
const clients: Client[] = [];
const stalled: Socket[] = [];

afterEach(async () => {
  for (const { socket } of clients.splice(0)) socket.destroy();
  for (const socket of stalled.splice(0)) socket.destroy();
  await killAll();
});

async function tlsClient(port: number): Promise<Awaited<ReturnType<typeof connectTlsClient>>> {
  const client = await connectTlsClient(port);
  clients.push(client);
  return client;
}

/** The port a `--host 127.0.0.1` run logs that it listens for TLS on. */
async function tlsPort(run: Run): Promise<number> {
  const [, port] = await run.waitFor(/listening for TLS on 127\.0\.0\.1:(\d+)\n/);
  return Number(port);
}

/** Starts bin/chatd serving TLS from copies of `first` that a spec may overwrite. */
async function startTls(args: string[] = []): Promise<{ run: Run; live: CertificateFiles }> {
  const live = { certFile: `${certificates.dir()}/live.crt`, keyFile: `${certificates.dir()}/live.key` };
  await certificates.install(certificates.first(), live);
  const run = start(['--host', '127.0.0.1', '--port', '0', '--tls-port', '0', '--tls-cert', live.certFile, '--tls-key', live.keyFile, ...args]);
  return { run, live };
}

describe('bin/chatd with TLS', () => {
  it('chats over TLS with a plain user, and a SIGHUP reload reaches the next connection', async () => {
    const { run, live } = await startTls();
    const [plain, tls] = [await listeningPort(run), await tlsPort(run)];
    const ann = await tlsClient(tls);
    expect(peerName(ann.socket)).toBe('first');
    ann.say('ann');
    await ann.until('*** ann just joined the chatroom\n');
    const bob = await connectClient(plain);
    clients.push(bob);
    bob.say('bob');
    await bob.until('*** bob just joined the chatroom\n');
    await ann.until('*** bob just joined the chatroom\n');
    bob.say('hello from the clear');
    expect(await ann.until('clear\n')).toBe('[bob] hello from the clear\n');
    await certificates.install(certificates.second(), live);
    run.child.kill('SIGHUP');
    await run.waitFor(/SIGHUP: reloaded the TLS certificate and key\n/);
    const carl = await tlsClient(tls);
    expect(peerName(carl.socket)).toBe('second');
    ann.say('still here');
    expect(await bob.until('here\n')).toBe('[bob] hello from the clear\n[ann] still here\n');
    expect(run.log()).toMatch(/^\S+Z connect #1 from 127\.0\.0\.1:\d+ \(tls\)$/m);
  });

  it('logs a bad file on SIGHUP and keeps serving the old pair', async () => {
    const { run, live } = await startTls();
    const tls = await tlsPort(run);
    await writeFile(live.keyFile, 'garbage');
    run.child.kill('SIGHUP');
    await run.waitFor(/SIGHUP: kept the TLS certificate and key in use: bad TLS certificate or key/);
    const ann = await tlsClient(tls);
    expect(peerName(ann.socket)).toBe('first');
  });

  it('logs a handshake that times out with its peer\'s address', async () => {
    const { run } = await startTls(['--handshake-timeout', '0.3']);
    const silent = await stalledHandshake(await tlsPort(run), await clientHello());
    stalled.push(silent);
    const port = silent.localPort;
    const [line] = await run.waitFor(/TLS handshake failed from .*\n/);
    expect(line).toBe(`TLS handshake failed from 127.0.0.1:${port} (ERR_TLS_HANDSHAKE_TIMEOUT)\n`);
  });

  it('logs nothing after "closed" for a handshake that the shutdown cuts off', async () => {
    const { run } = await startTls();
    const silent = await stalledHandshake(await tlsPort(run), await clientHello());
    stalled.push(silent);
    run.child.kill('SIGTERM');
    const { code, stdout } = await run.exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(/ closed\n$/);
    expect(stdout).not.toMatch(/handshake failed/);
  });

  it('serves TLS only with --port off', async () => {
    const { run } = await startTls(['--port', 'off']);
    const ann = await tlsClient(await tlsPort(run));
    ann.say('ann');
    await ann.until('*** ann just joined the chatroom\n');
    expect(run.log()).not.toMatch(/listening on /);
  });

  it('lives through SIGHUP without TLS', async () => {
    const run = start(['--host', '127.0.0.1', '--port', '0']);
    const port = await listeningPort(run);
    run.child.kill('SIGHUP');
    await run.waitFor(/SIGHUP: no TLS certificate to reload\n/);
    const ann = await connectClient(port);
    clients.push(ann);
    await ann.until('username: ');
  });

  it('exits 1 with one line when the certificate cannot be read', async () => {
    const missing = `${certificates.dir()}/missing.crt`;
    const { code, stderr } = await start(['--port', '0', '--tls-port', '0', '--tls-cert', missing, '--tls-key', certificates.first().keyFile]).exited;
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^chatd: cannot read TLS certificate ${missing}: ENOENT.*\\n$`));
  });
});

describe('parseCommand with TLS', () => {
  it('reads the TLS listener from flags or the environment', () => {
    expect(parseCommand(['--tls-port', '6697', '--tls-cert', 'c.pem'], { CHATD_TLS_KEY: 'k.pem', CHATD_PORT: 'off' })).toEqual({
      kind: 'serve', options: { port: 'off', tls: { port: 6697, certFile: 'c.pem', keyFile: 'k.pem' } }, log: DEFAULT_LOG_OPTIONS,
    });
  });

  it('refuses part of the TLS flags, and --port off without TLS', () => {
    expect(() => parseCommand(['--tls-port', '6697'], {})).toThrow('--tls-port, --tls-cert and --tls-key go together');
    expect(() => parseCommand(['--port', 'off'], {})).toThrow('--port off needs a TLS listener (--tls-port) or the browser door');
    expect(() => parseCommand(['--tls-port', 'x', '--tls-cert', 'c', '--tls-key', 'k'], {})).toThrow('--tls-port must be a whole number');
  });

  it('documents the TLS flags in --help', () => {
    const help = usage().replace(/\n {2,}(?=[^ -])/g, ' '); // a description's lines joined
    for (const [flag, value] of [['tls-port', '<port>'], ['tls-cert', '<file>'], ['tls-key', '<file>']]) {
      expect(help).toMatch(new RegExp(`--${flag} ${value} .*\\(env CHATD_${flag?.toUpperCase().replace(/-/g, '_')}, default none\\)`));
    }
  });
});
