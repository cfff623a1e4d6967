import { get } from 'node:https';
import type { Socket } from 'node:net';
import type { DoorConnection } from '../../../lib/edge/door';
import { DEFAULT_WEB_SETTINGS, type WebDoor, webDoor } from '../../../lib/edge/web/door';
import { CONCEAL, PAGE_PROTOCOL, REVEAL } from '../../../lib/edge/web/stream';
import { type ChatServer, createChatServer, type ServerEvent } from '../../../lib/server';
import { certificateFolder, makeCertificate } from '../../support/tls';
import { connectWeb, type WebClient } from '../../support/web';

const clients: WebClient[] = [];
afterEach(() => {
  for (const client of clients.splice(0)) client.ws.terminate();
});

describe('conceal on a web connection', () => {
  let door: WebDoor;
  let entered: (connection: DoorConnection) => void = () => {};
  beforeEach(async () => {
    door = webDoor(
      { host: '127.0.0.1', web: { ...DEFAULT_WEB_SETTINGS, port: 0 }, maxLineBytes: 4096, requestTimeoutMs: 10_000 },
      { arrived: (raw: Socket) => raw.on('error', () => {}) !== undefined, enter: (connection) => entered(connection), error: () => {} },
    );
    await door.listen();
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) client.ws.terminate();
    await door.close();
  });

  const open = async (protocols: string[]) => {
    const connection = new Promise<DoorConnection>((resolve) => (entered = resolve));
    const client = await connectWeb(`ws://127.0.0.1:${door.httpAddress()?.port}/chat`, {}, protocols);
    clients.push(client);
    return { client, connection: await connection };
  };

  it("tells chatd's page to mask its input and to show it again", async () => {
    const { client, connection } = await open([PAGE_PROTOCOL]);
    expect(connection.door).toBe('web');
    connection.conceal?.(true);
    connection.stream.write('Password: ');
    expect(await client.until('Password: ')).toEqual([CONCEAL, 'Password: ']);
    connection.conceal?.(false);
    connection.stream.write('Welcome, ann\n');
    expect(await client.until('Welcome')).toEqual([REVEAL, 'Welcome, ann\n']);
  });

  it('sends no control message to a client that did not ask for the page protocol', async () => {
    const { client, connection } = await open([]);
    connection.conceal?.(true);
    connection.stream.write('Password: ');
    expect(await client.until('Password: ')).toEqual(['Password: ']);
  });
});

describe('the browser door over HTTPS', () => {
  let server: ChatServer;
  let folder: Awaited<ReturnType<typeof certificateFolder>>;
  afterEach(async () => {
    await server.close();
    await folder.remove();
  });

  it('serves the page and WSS alone, with --tls-cert and --tls-key and no TLS port; its users count as encrypted; reloads its files', async () => {
    folder = await certificateFolder();
    const files = await makeCertificate(folder.dir, 'web', 'localhost');
    const events: ServerEvent[] = [];
    server = createChatServer({ host: '127.0.0.1', port: 'off', web: { ...DEFAULT_WEB_SETTINGS, tls: { port: 0, ...files } }, onEvent: (event) => events.push(event) });
    const { port } = await server.listen();
    expect(server.webTlsAddress()?.port).toBe(port);
    expect(server.tlsAddress()).toBeNull();
    const page = await new Promise<{ status: number; policy: unknown }>((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: '/', rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, policy: res.headers['content-security-policy'] });
      }).on('error', reject);
    });
    expect(page.status).toBe(200);
    expect(page.policy).toContain("frame-ancestors 'none'");
    const ann = await connectWeb(`wss://127.0.0.1:${port}/chat`, { rejectUnauthorized: false, origin: `https://127.0.0.1:${port}` });
    clients.push(ann);
    await ann.until('username: ');
    expect(events).toContainEqual(expect.objectContaining({ kind: 'connect', tls: true }));
    await makeCertificate(folder.dir, 'web', 'renewed.localhost');
    await expect(server.reloadTls()).resolves.toBeUndefined();
  });
});
