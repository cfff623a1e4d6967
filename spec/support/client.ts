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
  return readingClient(connect(port, '127.0.0.1'), 'connect');
}

/** Reads `socket` in the background from now on; resolves once it emits `ready`. */
export async function readingClient(socket: Socket, ready: 'connect' | 'secureConnect'): Promise<Client> {
  socket.on('error', () => {}); // a reset from the server is a case under test, not a failure
  socket.setEncoding('utf8');
  // Unread text as its chunks: appending to one long string and searching it would copy it
  // whole for every chunk, and specs read megabytes.
  let unread: string[] = [];
  let ended = false;
  let wake = () => {};
  socket.on('data', (chunk: string) => {
    unread.push(chunk);
    wake();
  });
  socket.on('close', () => {
    ended = true;
    wake();
  });
  await once(socket, ready);
  const waitForMore = () => new Promise<void>((resolve) => (wake = resolve));
  const take = (length: number): string => {
    const all = unread.join('');
    unread = all.length > length ? [all.slice(length)] : [];
    return all.slice(0, length);
  };
  const until = async (expected: string): Promise<string> => {
    let scanned = 0; // chunks searched so far
    let offset = 0; // where `carry` starts in the unread text
    let carry = ''; // the end of what was searched, where a match may begin
    for (;;) {
      for (; scanned < unread.length; scanned++) {
        const text = carry + (unread[scanned] ?? '');
        const at = text.indexOf(expected);
        if (at >= 0) return take(offset + at + expected.length);
        carry = text.slice(Math.max(0, text.length - expected.length + 1));
        offset += text.length - carry.length;
      }
      if (ended) throw new Error(`closed before ${JSON.stringify(expected)}; unread: ${JSON.stringify(unread.join('').slice(-300))}`);
      await waitForMore();
    }
  };
  const rest = async (): Promise<string> => {
    while (!ended) await waitForMore();
    return take(Infinity);
  };
  return { socket, until, rest, say: (line) => socket.write(`${line}\n`) };
}

/** Writes `bytes` with no newline, in 64 KiB pieces, waiting whenever the socket asks to. */
export async function writeUnterminated(socket: Socket, bytes: number): Promise<void> {
  const piece = Buffer.alloc(64 * 1024, 'z');
  for (let sent = 0; sent < bytes; sent += piece.length) {
    if (!socket.write(piece)) await once(socket, 'drain');
  }
}

/** Clients of one server, kept so that one `closeAll()` in afterEach ends every one. */
export interface Visitors {
  /** Connects and reads nothing yet. */
  open(): Promise<Client>;
  /** Connects and reads through the prompt. */
  visit(): Promise<Client>;
  /** Connects, logs in as `nick` and reads through the join line. */
  join(nick: string): Promise<Client>;
  /** Destroys every client opened so far. */
  closeAll(): void;
}

export function visitorsOf(port: number): Visitors {
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
  const closeAll = () => {
    for (const { socket } of clients.splice(0)) socket.destroy();
  };
  return { open, visit, join, closeAll };
}

/** A running server in this process and the clients a spec opened on it. */
export interface Harness extends Omit<Visitors, 'closeAll'> {
  readonly server: ChatServer;
  readonly port: number;
  /** Closes every client, then the server. */
  stop(): Promise<void>;
}

export async function startHarness(options: Partial<ChatServerOptions> = {}): Promise<Harness> {
  const server = createChatServer({ host: '127.0.0.1', port: 0, ...options });
  const { port } = await server.listen();
  const { closeAll, ...visitors } = visitorsOf(port);
  const stop = async () => {
    closeAll();
    await server.close();
  };
  return { server, port, ...visitors, stop };
}
