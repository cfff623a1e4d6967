import type { Socket } from 'node:net';
import { type Client, connectClient } from './support/client';
import { killAll, listeningPort, start } from './support/chatd';

const NOTICE = '*** server shutting down\n';
const USERS = 50;
/** A chat line of about 100 bytes: long enough to fill buffers fast, short enough to split cheaply. */
const FLOOD = Buffer.from(`${'flood '.repeat(16)}\n`.repeat(128));

/**
 * A busy room: every user's lines are relayed at 100 a second, so readers have plenty queued.
 * No one is cut off for reading slowly, and a shutdown waits for them: the spec is about the
 * notice reaching readers, not about the limits.
 */
const BUSY = ['--rate', '100', '--burst', '100', '--max-send-queue', '100000000', '--shutdown-grace', '10'];

const sockets: Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await killAll();
});

async function logIn(port: number, nick: string): Promise<Client> {
  const client = await connectClient(port);
  sockets.push(client.socket);
  client.say(nick);
  await client.until(`*** ${nick} just joined the chatroom\n`);
  return client;
}

/**
 * Writes chat lines as fast as the socket drains until `stop()`. `written` resolves once this
 * many bytes are out of the writer's hands, 0 at once.
 */
function flood(socket: Socket, bytes: number): { written: Promise<void>; stop: () => void } {
  let stopped = false;
  let sent = 0;
  let reached = () => {};
  const written = new Promise<void>((resolve) => (reached = resolve));
  const pump = () => {
    while (!stopped && socket.writable) {
      if (sent >= bytes) reached();
      sent += FLOOD.length;
      if (!socket.write(FLOOD)) return socket.once('drain', pump);
    }
    return undefined;
  };
  pump();
  return { written, stop: () => (stopped = true) };
}

/** Everything `client` reads from the notice on, once the server has closed the connection. */
async function noticeAndAfter(client: Client, stop: () => void): Promise<string> {
  try {
    await client.until(NOTICE);
    return NOTICE + (await client.rest());
  } finally {
    stop(); // the notice read: a user would stop typing, and the writer has no one to write to
  }
}

describe('shutdown under load', () => {
  // Each round signals at a different point of the flood: at once, and after more and more
  // bytes, so the signal meets the server reading, splitting, pacing and writing. Every other
  // user (the even or the odd ones, by round) reads nothing from the flood's start until chatd logs the
  // signal, so their notice waits behind what they have not read while their lines still arrive:
  // where the socket's end used to reset the connection and drop the notice.
  it.each([0, 1, 2, 3, 4, 5])('tells each of 50 flooding users, last, that chatd shuts down on SIGTERM (round %i)', async (round) => {
    const run = start(['--port', '0', '--host', '127.0.0.1', ...BUSY]);
    const port = await listeningPort(run);
    const users = await Promise.all(Array.from({ length: USERS }, (_, i) => logIn(port, `u${i}`)));
    const sleepers = users.filter((_, i) => (i + round) % 2 === 0);
    for (const { socket } of sleepers) socket.pause();
    const floods = users.map((user) => ({ user, ...flood(user.socket, round * 16 * 1024) }));
    await Promise.all(floods.map(({ written }) => written));
    run.child.kill('SIGTERM');
    await run.waitFor(/SIGTERM: shutting down\n/);
    for (const { socket } of sleepers) socket.resume();
    const endings = await Promise.all(floods.map(({ user, stop }) => noticeAndAfter(user, stop)));
    expect(endings).toEqual(Array(USERS).fill(NOTICE)); // each got it, and no line after it
    expect((await run.exited).code).toBe(0);
  });
});
