import { DEFAULT_LOG_OPTIONS } from '../lib/cli/log';
import { parseCommand } from '../lib/cli/settings';
import { DEFAULT_WEB_SETTINGS } from '../lib/edge/web/door';
import { killAll, start } from './support/chatd';
import { certificateFolder, makeCertificate } from './support/tls';
import { connectWeb, type WebClient } from './support/web';

const clients: WebClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.ws.terminate();
  await killAll();
});

describe('parseCommand with the browser door', () => {
  it('reads the web ports, origins and trusted proxies from flags or the environment', () => {
    const env = { CHATD_WEB_ORIGINS: 'https://chat.example.org', CHATD_TRUST_PROXY: '10.0.0.0/8, 192.0.2.1' };
    expect(parseCommand(['--port', 'off', '--web-port', '8080'], env)).toEqual({
      kind: 'serve',
      options: { port: 'off', web: { ...DEFAULT_WEB_SETTINGS, port: 8080, tls: undefined, origins: ['https://chat.example.org'], trustProxy: ['10.0.0.0/8', '192.0.2.1'] } },
      log: DEFAULT_LOG_OPTIONS,
    });
  });

  it('serves HTTPS with --tls-cert and --tls-key and no --tls-port', () => {
    const command = parseCommand(['--web-tls-port', '8443', '--tls-cert', 'c.pem', '--tls-key', 'k.pem'], {});
    expect(command).toEqual({
      kind: 'serve', options: { web: { ...DEFAULT_WEB_SETTINGS, port: undefined, tls: { port: 8443, certFile: 'c.pem', keyFile: 'k.pem' } } }, log: DEFAULT_LOG_OPTIONS,
    });
  });

  it('refuses HTTPS without its files, two listeners on one port, a bad origin or proxy', () => {
    expect(() => parseCommand(['--web-tls-port', '8443'], {})).toThrow('--web-tls-port needs --tls-cert and --tls-key');
    expect(() => parseCommand(['--web-port', '6677'], {})).toThrow('--port and --web-port are the same port, 6677');
    expect(() => parseCommand(['--web-port', '8080', '--web-tls-port', '8080', '--tls-cert', 'c', '--tls-key', 'k'], {})).toThrow('--web-port and --web-tls-port are the same port, 8080');
    expect(() => parseCommand(['--web-port', '8080', '--web-origins', 'chat.example.org'], {})).toThrow("--web-origins: 'chat.example.org' is not an origin");
    expect(() => parseCommand(['--web-port', '8080', '--web-origins', 'https://example.org/page'], {})).toThrow('is not an origin');
    expect(() => parseCommand(['--web-port', '8080', '--trust-proxy', '10.0.0.0/40'], {})).toThrow('--trust-proxy needs addresses or CIDR blocks');
    expect(() => parseCommand(['--port', 'off'], {})).toThrow('--port off needs a TLS listener (--tls-port) or the browser door');
  });
});

describe('bin/chatd with the browser door', () => {
  it('serves the browser door alone with --port off, and says where', async () => {
    const run = start(['--host', '127.0.0.1', '--port', 'off', '--web-port', '0']);
    const [, port] = await run.waitFor(/browser door on http:\/\/127\.0\.0\.1:(\d+)\/\n/);
    const ann = await connectWeb(`ws://127.0.0.1:${port}/chat`);
    clients.push(ann);
    await ann.until('username: ');
    ann.say('ann');
    await ann.until('*** ann just joined the chatroom\n');
    expect(run.log()).not.toMatch(/listening on /);
  });

  it('reloads the HTTPS certificate on SIGHUP with no TLS port', async () => {
    const folder = await certificateFolder();
    try {
      const files = await makeCertificate(folder.dir, 'web', 'localhost');
      const run = start(['--host', '127.0.0.1', '--port', 'off', '--web-tls-port', '0', '--tls-cert', files.certFile, '--tls-key', files.keyFile]);
      const [, port] = await run.waitFor(/browser door on https:\/\/127\.0\.0\.1:(\d+)\/\n/);
      run.child.kill('SIGHUP');
      await run.waitFor(/SIGHUP: reloaded the TLS certificate and key\n/);
      const ann = await connectWeb(`wss://127.0.0.1:${port}/chat`, { rejectUnauthorized: false });
      clients.push(ann);
      await ann.until('username: ');
    } finally {
      await folder.remove();
    }
  });
});
