import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { type ChatServer, type ChatServerOptions, createChatServer } from '../../lib/server';

/** A test's view of one connection: what it has read, kept until a spec takes it. */
export interface Client {
  readonly socket: Socket;
  /** Everything read up to and including `expected`; rejects if the connection ends first. */
  until(expected: string): Promise<string>;
  /** Everything read until the server ended the connection. */
  rest(): Promise<string>;
  /** Writes one line, "\n" added. */
  say(line: string): void;
}

/** Connects to 127.0.0.1:port and reads in the background; never crashes on a reset. */
export async function connectClient(port: number): Promise<Client> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {}); // a reset from the server is a case under test, not a failure
  socket.setEncoding('utf8');
  let unread = '';
  let ended = false;
  let wake = () => {};
  socket.on('data', (chunk: string) => {
    unread += chunk;
    wake();
  });
  socket.on('close', () => {
    ended = true;
    wake();
  });
  await once(socket, 'connect');
  const waitForMore = () => new Promise<void>((resolve) => (wake = resolve));
  const until = async (expected: string): Promise<string> => {
    while (!unread.includes(expected)) {
      if (ended) throw new Error(`closed before ${JSON.stringify(expected)}; unread: ${JSON.stringify(unread.slice(-300))}`);
      await waitForMore();
    }
    const end = unread.indexOf(expected) + expected.length;
    const taken = unread.slice(0, end);
    unread = unread.slice(end);
    return taken;
  };
  const rest = async (): Promise<string> => {
    while (!ended) await waitForMore();
    const taken = unread;
    unread = '';
    return taken;
  };
  return { socket, until, rest, say: (line) => socket.write(`${line}\n`) };
}

/** A running server and every client a spec opened on it, for one `stop()` in afterEach. */
export interface Harness {
  readonly server: ChatServer;
  readonly port: number;
  /** Connects and reads nothing yet. */
  open(): Promise<Client>;
  /** Connects and reads through the prompt. */
  visit(): Promise<Client>;
  /** Connects, logs in as `nick` and reads through the join line. */
  join(nick: string): Promise<Client>;
  /** Closes every client, then the server. */
  stop(): Promise<void>;
}

export async function startHarness(options: Partial<ChatServerOptions> = {}): Promise<Harness> {
  const server = createChatServer({ host: '127.0.0.1', port: 0, ...options });
  const { port } = await server.listen();
  const clients: Client[] = [];
  const open = async () => {
    const client = await connectClient(port);
    clients.push(client);
    return client;
  };
  const visit = async () => {
    const client = await open();
    await client.until('username: ');
    return client;
  };
  const join = async (nick: string) => {
    const client = await visit();
    client.say(nick);
    await client.until(`*** ${nick} just joined the chatroom\n`);
    return client;
  };
  const stop = async () => {
    for (const { socket } of clients.splice(0)) socket.destroy();
    await server.close();
  };
  return { server, port, open, visit, join, stop };
}
