import { once } from 'node:events';
import { Client, type ClientChannel, type ConnectConfig, type PseudoTtyOptions, utils } from 'ssh2';

/** A host key for a spec's server: made once per spec file. */
export const SPEC_HOST_KEY = utils.generateKeyPairSync('ed25519').private;

/** An ssh2 client connected to a spec's server, and its shell's output as it comes. */
export interface SshUser {
  readonly client: Client;
  readonly channel: ClientChannel;
  /** Everything read from the shell so far. */
  read(): string;
  /** Resolves with all read so far once it holds `expected`; rejects if the channel closes first. */
  until(expected: string): Promise<string>;
  /** Resolves once the channel has closed. */
  closed(): Promise<void>;
}

const opened: Client[] = [];

/** Connects as `username` (keyboard-interactive, or with `privateKey`) and authenticates; rejects on an error. */
export async function sshConnect(port: number, config: ConnectConfig = {}): Promise<Client> {
  const client = new Client();
  opened.push(client);
  client.on('keyboard-interactive', (_name, _instructions, _lang, _prompts, finish) => finish([]));
  const ready = once(client, 'ready');
  client.connect({ host: '127.0.0.1', port, username: 'ann', tryKeyboard: true, readyTimeout: 10_000, ...config });
  await ready;
  client.on('error', () => {}); // a reset from the server is a case under test
  return client;
}

/** Opens a shell on `client`, with a pty of `pty` or without one. */
export async function sshShell(client: Client, pty: PseudoTtyOptions | false): Promise<SshUser> {
  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    const done = (err: Error | undefined, opened: ClientChannel) => (err === undefined ? resolve(opened) : reject(err));
    if (pty === false) client.shell(false, done);
    else client.shell(pty, done);
  });
  let received = '';
  let ended = false;
  let wake = () => {};
  channel.setEncoding('utf8');
  channel.on('data', (chunk: string) => {
    received += chunk;
    wake();
  });
  channel.on('close', () => {
    ended = true;
    wake();
  });
  const until = async (expected: string): Promise<string> => {
    while (!received.includes(expected)) {
      if (ended) throw new Error(`closed before ${JSON.stringify(expected)}; read: ${JSON.stringify(received.slice(-300))}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return received;
  };
  const closed = async () => {
    while (!ended) await new Promise<void>((resolve) => (wake = resolve));
  };
  return { client, channel, read: () => received, until, closed };
}

/** Connects as `username` and opens a shell. */
export async function sshUser(port: number, username: string, pty: PseudoTtyOptions | false = false, config: ConnectConfig = {}): Promise<SshUser> {
  return sshShell(await sshConnect(port, { username, ...config }), pty);
}

/** Ends every client the spec opened, for afterEach. */
export function closeSshClients(): void {
  for (const client of opened.splice(0)) client.end();
}
