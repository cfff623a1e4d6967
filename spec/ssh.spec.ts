import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { BaseAgent, type Client, utils } from 'ssh2';
import { createChatServer, type ServerEvent } from '../lib/server';
import { type Harness, startHarness } from './support/client';
import { Screen } from './support/screen';
import { closeSshClients, SPEC_HOST_KEY, sshConnect, sshShell, sshUser } from './support/ssh';

let harness: Harness | undefined;
let events: ServerEvent[] = [];
const sockets: Socket[] = [];

async function start(options: Parameters<typeof startHarness>[0] = {}): Promise<{ harness: Harness; sshPort: number }> {
  events = [];
  harness = await startHarness({ ssh: { port: 0, hostKey: SPEC_HOST_KEY }, onEvent: (event) => {
    events.push(event);
    wake();
  }, ...options });
  const address = harness.server.sshAddress();
  if (address === null) throw new Error('no SSH listener');
  return { harness, sshPort: address.port };
}

let wake = () => {};

/** Resolves once `check` holds of an event reported so far. */
async function reported(check: (event: ServerEvent) => boolean): Promise<ServerEvent> {
  for (;;) {
    const found = events.find(check);
    if (found !== undefined) return found;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

afterEach(async () => {
  closeSshClients();
  for (const socket of sockets.splice(0)) socket.destroy();
  await harness?.stop();
  harness = undefined;
});

describe('the SSH door', () => {
  it('logs in with the SSH user name and chats with an nc user, without a pty as nc does', async () => {
    const { harness: chat, sshPort } = await start();
    const bob = await chat.join('bob');
    const ann = await sshUser(sshPort, 'ann');
    await ann.until('*** ann just joined the chatroom\n');
    expect(ann.read()).toBe("Welcome to Jen's chat server!\nPlease enter your username: Welcome, ann\n*** ann just joined the chatroom\n");
    await bob.until('*** ann just joined the chatroom\n');
    ann.channel.write('hello bob\n');
    await bob.until('[ann] hello bob\n');
    bob.say('hi ann');
    await ann.until('[bob] hi ann\n');
    ann.channel.write('/quit\n');
    await bob.until('*** ann has disconnected\n');
    await ann.closed();
    expect(await reported((event) => event.kind === 'connect' && event.door === 'ssh')).toMatchObject({ tls: true });
  });

  it('leaves the connection for the client to close once the shell has closed, so that it shows all it was sent', async () => {
    const { sshPort } = await start();
    const ann = await sshUser(sshPort, 'ann', { term: 'xterm', cols: 40, rows: 10, height: 0, width: 0 });
    await ann.until('just joined the chatroom\r\n');
    ann.channel.write('typed\x15\x04');
    await ann.closed();
    expect(ann.read().endsWith('\r\x1b[J')).toBe(true);
    // Still open: a second session is refused on it, where a disconnect would have ended it.
    await expect(sshShell(ann.client, false)).rejects.toMatchObject({ reason: 2 });
    ann.client.end();
    await reported((event) => event.kind === 'disconnect');
  });

  it('lets a client in with a key, which it proves it holds', async () => {
    const { sshPort } = await start();
    const key = utils.generateKeyPairSync('ed25519');
    const ann = await sshUser(sshPort, 'ann', false, { privateKey: key.private, tryKeyboard: false });
    await ann.until('*** ann just joined the chatroom\n');
  });

  it('gives a taken SSH user name its reason and the prompt, as over nc', async () => {
    const { harness: chat, sshPort } = await start();
    await chat.join('ann');
    const other = await sshUser(sshPort, 'ann');
    await other.until('Please enter your username: *** username ann is taken\nPlease enter your username: ');
    other.channel.write('anne\n');
    await other.until('*** anne just joined the chatroom\n');
  });

  it('edits the line on a pty: lines that arrive are written above the typed line, which is drawn again below', async () => {
    const { harness: chat, sshPort } = await start();
    const bob = await chat.join('bob');
    const ann = await sshUser(sshPort, 'ann', { term: 'xterm', cols: 30, rows: 10, height: 0, width: 0 });
    await ann.until('just joined the chatroom\r\n');
    ann.channel.write('half typ');
    await ann.until('half typ');
    bob.say('interrupting');
    await ann.until('[bob] interrupting\r\n');
    await ann.until('[ann] half typ');
    const screen = new Screen(30);
    screen.write(ann.read());
    expect(screen.lines().slice(-2)).toEqual(['[bob] interrupting', '[ann] half typ']);
    ann.channel.write('ed\r');
    await bob.until('[ann] half typed\n');
  });

  it('deletes a wide character with one backspace, completes names with Tab and recalls lines with up', async () => {
    const { harness: chat, sshPort } = await start();
    await chat.join('bobby');
    const ann = await sshUser(sshPort, 'ann', { term: 'xterm', cols: 40, rows: 10, height: 0, width: 0 });
    await ann.until('just joined the chatroom\r\n');
    ann.channel.write('/who\r');
    await ann.until('*** 2 in #main: bobby, ann\r\n');
    ann.channel.write('日本x\x7f\x7f hi bo\t');
    await ann.until('日 hi bobby ');
    const screen = new Screen(40);
    screen.write(ann.read());
    expect(screen.lines().slice(-1)).toEqual(['[ann] 日 hi bobby']);
    expect(screen.cursor().column).toBe('[ann] 日 hi bobby '.length + 1);
    ann.channel.write('\x15\x1b[A');
    await ann.until('\x1b[J[ann] /who');
  });

  it('hides what is typed at the Password: prompt', async () => {
    const { harness: chat, sshPort } = await start();
    const bob = await chat.join('bob');
    bob.say('/register opensesame');
    await bob.until('*** bob is registered to you');
    bob.say('/quit');
    await bob.rest();
    const ann = await sshUser(sshPort, 'bob', { term: 'xterm', cols: 40, rows: 10, height: 0, width: 0 });
    await ann.until('Password: ');
    ann.channel.write('opensesame');
    ann.channel.write('\r');
    await ann.until('Welcome, bob');
    expect(ann.read()).not.toContain('sesame');
  });

  /** Resolves with the error a request on a connection of its own gets. */
  const refusal = async (sshPort: number, request: (client: Client, done: (err: Error | undefined) => void) => void): Promise<Error | undefined> => {
    const client = await sshConnect(sshPort);
    return new Promise((resolve) => request(client, resolve));
  };

  it('refuses exec, subsystems, port forwarding, X11 forwarding and a second session, each as the client expects, and logs them', async () => {
    const { sshPort } = await start();
    expect(await refusal(sshPort, (client, done) => client.exec('ls', done))).toMatchObject({ message: 'Unable to exec' });
    expect(await refusal(sshPort, (client, done) => client.sftp(done))).toMatchObject({ message: 'Unable to start subsystem: sftp' });
    expect(await refusal(sshPort, (client, done) => client.subsys('netconf', done))).toMatchObject({ message: 'Unable to start subsystem: netconf' });
    expect(await refusal(sshPort, (client, done) => client.forwardIn('127.0.0.1', 0, done))).toMatchObject({ message: 'Unable to bind to 127.0.0.1:0' });
    expect(await refusal(sshPort, (client, done) => client.forwardOut('127.0.0.1', 1, '127.0.0.1', 22, done))).toMatchObject({ reason: 2 }); // ssh2's one code for a refused channel: CONNECT_FAILED
    expect(await refusal(sshPort, (client, done) => client.shell({ x11: true }, done))).toMatchObject({ message: 'Unable to request X11' });
    expect(await refusal(sshPort, (client, done) => client.shell(false, () => client.shell(false, done)))).toMatchObject({ reason: 2 });
    const requests = events.flatMap((event) => (event.kind === 'ssh-refused' ? [event.request] : []));
    expect(requests).toEqual(['exec', 'subsystem sftp', 'subsystem netconf', 'tcpip-forward', 'direct-tcpip', 'X11 forwarding', 'a second session']);
  });

  it('refuses agent forwarding', async () => {
    const { sshPort } = await start();
    const agent = new (class extends BaseAgent {
      getIdentities(found: (err: Error | undefined, keys: Buffer[]) => void): void {
        found(undefined, []);
      }
      sign(): void {}
    })();
    const client = await sshConnect(sshPort, { agent, agentForward: true });
    await expect(sshShell(client, false)).rejects.toThrow('Unable to request agent forwarding');
    await reported((event) => event.kind === 'ssh-refused' && event.request === 'agent forwarding');
  });

  it('drops a silent connection, a stalled key exchange, garbage and a huge packet by the login timeout, costing a chatting user nothing', async () => {
    const { harness: chat, sshPort } = await start({ loginTimeoutMs: 200 });
    const bob = await chat.join('bob');
    const [silent, stalled, garbage, huge] = [0, 1, 2, 3].map(() => connect(sshPort, '127.0.0.1'));
    const all = [silent, stalled, garbage, huge].flatMap((socket) => socket ?? []);
    sockets.push(...all);
    for (const socket of all) socket.on('error', () => {}).resume(); // read, to see the close
    const closed = Promise.all(all.map((socket) => once(socket, 'close')));
    await Promise.all(all.map((socket) => once(socket, 'connect')));
    stalled?.write('SSH-2.0-stalled\r\n'); // then no key exchange
    garbage?.write('GET / HTTP/1.1\r\n\r\n'.repeat(1000));
    huge?.write(Buffer.concat([Buffer.from('SSH-2.0-huge\r\n'), Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x04])]));
    bob.say('still here');
    await bob.until('[bob] still here\n');
    await closed;
    await reported((event) => event.kind === 'ssh-failed' && event.reason === 'no shell within the login timeout');
  });

  it('counts an SSH connection from accept against --max-clients', async () => {
    const { harness: chat, sshPort } = await start({ maxClients: 1 });
    await chat.join('bob');
    const refused = connect(sshPort, '127.0.0.1');
    sockets.push(refused);
    refused.on('error', () => {});
    await once(refused, 'close');
    await reported((event) => event.kind === 'full');
  });

  it('serves SSH alone, with the plain port off', async () => {
    const { sshPort } = await start({ port: 'off' });
    expect(harness?.server.address()).toBeNull();
    const ann = await sshUser(sshPort, 'ann');
    await ann.until('*** ann just joined the chatroom\n');
  });

  it('needs a host key, or a data folder to keep one in', async () => {
    const server = createChatServer({ host: '127.0.0.1', port: 0, ssh: { port: 0 } });
    await expect(server.listen()).rejects.toMatchObject({ code: 'CHAT_SSH_HOST_KEY' });
  });
});
