import { once } from 'node:events';
import { connect, createServer, type Server, Socket } from 'node:net';
import { farewell } from '../../lib/edge/farewell';
import { type Client, connectClient } from '../support/client';

let server: Server | undefined;
const sockets: Socket[] = [];

/** Listens on a free port and resolves with it; `accepted` resolves with the next socket accepted. */
async function listen(): Promise<{ port: number; accepted: () => Promise<Socket> }> {
  const listening = createServer();
  server = listening;
  listening.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  const address = listening.address();
  if (address === null || typeof address === 'string') throw new Error('TCP only');
  const accepted = async () => {
    const [socket]: unknown[] = await once(listening, 'connection');
    if (!(socket instanceof Socket)) throw new Error('not a socket');
    socket.on('error', () => {});
    sockets.push(socket);
    return socket;
  };
  return { port: address.port, accepted };
}

/** Our side of a connection and a client reading the other side. */
async function pair(): Promise<{ ours: Socket; peer: Client }> {
  const { port, accepted } = await listen();
  const socket = accepted();
  const peer = await connectClient(port);
  sockets.push(peer.socket);
  return { ours: await socket, peer };
}

/** Writes as fast as the socket drains until it is no longer writable or `stop()`. */
function flood(socket: Socket): () => void {
  let stopped = false;
  const chunk = Buffer.alloc(16 * 1024, 'x');
  const pump = (): void => {
    while (!stopped && socket.writable) if (!socket.write(chunk)) return void socket.once('drain', pump);
  };
  pump();
  return () => (stopped = true);
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  server?.close();
  if (server !== undefined) await once(server, 'close');
  server = undefined;
});

describe('farewell', () => {
  it('gets its last line, behind what the peer has not read, to a peer still sending; no reset', async () => {
    const { ours, peer } = await pair();
    peer.socket.pause();
    const backlog = 'y'.repeat(4 * 1024 * 1024); // more than loopback's buffers hold
    ours.write(backlog);
    const stop = flood(peer.socket);
    await once(ours, 'data'); // its lines arrive, and nobody reads them any more
    farewell(ours, 10_000, 'bye\n');
    peer.socket.resume();
    const read = await peer.until('bye\n');
    stop();
    expect(read).toBe(`${backlog}bye\n`);
    expect(await peer.rest()).toBe('');
    expect(peer.socket.errored).toBeNull();
  });

  it('drains a socket that nobody has read from yet', async () => {
    const { ours, peer } = await pair();
    const stop = flood(peer.socket);
    farewell(ours, 10_000, 'full\n');
    expect(await peer.until('full\n')).toBe('full\n');
    stop();
    expect(await peer.rest()).toBe('');
    expect(peer.socket.errored).toBeNull();
  });

  it('cuts off a peer that neither reads nor closes once the grace ends', async () => {
    const { ours, peer } = await pair();
    peer.socket.pause();
    ours.write(Buffer.alloc(4 * 1024 * 1024));
    const stop = flood(peer.socket);
    const saidAt = Date.now();
    farewell(ours, 300, 'bye\n');
    await once(ours, 'close');
    stop();
    expect(Date.now() - saidAt).toBeGreaterThanOrEqual(290);
  });

  it('closes once the grace ends a connection whose peer read the last line but keeps its side open', async () => {
    const { port, accepted } = await listen();
    const socket = accepted();
    const peer = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    sockets.push(peer);
    const ours = await socket;
    let read = '';
    peer.setEncoding('utf8').on('data', (chunk: string) => (read += chunk));
    const saidAt = Date.now();
    farewell(ours, 300, 'bye\n');
    await once(peer, 'end');
    expect(read).toBe('bye\n');
    await once(ours, 'close');
    expect(Date.now() - saidAt).toBeGreaterThanOrEqual(290);
  });

  it('half-closes after what was written when it has no line of its own', async () => {
    const { ours, peer } = await pair();
    ours.write('last said\n');
    farewell(ours, 10_000);
    expect(await peer.rest()).toBe('last said\n');
  });

  it('says goodbye once: a second farewell changes nothing', async () => {
    const { ours, peer } = await pair();
    farewell(ours, 10_000, 'timed out\n');
    farewell(ours, 10_000, 'shutting down\n');
    expect(await peer.rest()).toBe('timed out\n');
  });
});
