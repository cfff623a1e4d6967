import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { filter, firstValueFrom, ReplaySubject, type Subscription } from 'rxjs';
import type { Connection } from '../../lib/chat/connection';
import { SERVER_FULL, SHUTTING_DOWN } from '../../lib/chat/texts';
import { type Entrance, type EntranceEvent, entrance } from '../../lib/edge/entrance';
import type { DoorConnection } from '../../lib/edge/door';
import { type Fanout, localFanout } from '../../lib/edge/fanout';
import { DEFAULT_SERVER_OPTIONS } from '../../lib/server-options';
import { type Client, connectClient } from '../support/client';

let server: Server | undefined;
const clients: Client[] = [];
const reading: Subscription[] = [];

interface Opened {
  readonly doors: Entrance;
  readonly fanout: Fanout;
  readonly port: number;
  readonly reported: ReplaySubject<EntranceEvent>;
  readonly joined: ReplaySubject<Connection>;
}

/** An entrance behind a plain listener on a free port, or behind `door` (a door of its own over
 * each TCP connection); each joined connection's input is read, as the chat would. */
async function open(maxClients = 10, door?: (raw: Socket) => DoorConnection): Promise<Opened> {
  const reported = new ReplaySubject<EntranceEvent>();
  const joined = new ReplaySubject<Connection>();
  let nextId = 1;
  const fanout = localFanout();
  const doors = entrance({ ...DEFAULT_SERVER_OPTIONS, maxClients, exemptAddresses: [] }, {
    fanout,
    newId: () => String(nextId++),
    join: (connection) => {
      reading.push(connection.input$.subscribe());
      joined.next(connection);
    },
    report: (event) => reported.next(event),
  });
  const listening = createServer((raw: Socket) => {
    if (door === undefined && doors.arrived(raw, 'tcp')) doors.accept(raw, false);
    else if (door !== undefined && doors.arrived(raw, 'web')) doors.enter(door(raw));
  });
  server = listening;
  listening.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  const address = listening.address();
  if (address === null || typeof address === 'string') throw new Error('TCP only');
  return { doors, fanout, port: address.port, reported, joined };
}

async function visit(port: number): Promise<Client> {
  const client = await connectClient(port);
  clients.push(client);
  return client;
}

const reportOf = (reported: ReplaySubject<EntranceEvent>, kind: EntranceEvent['kind']) =>
  firstValueFrom(reported.pipe(filter((event) => event.kind === kind)));

afterEach(async () => {
  for (const subscription of reading.splice(0)) subscription.unsubscribe();
  for (const { socket } of clients.splice(0)) socket.destroy();
  const closing = server;
  server = undefined;
  if (closing !== undefined) await new Promise((resolve) => closing.close(resolve));
});

describe('entrance', () => {
  it('enters an admitted connection with a new id, and reports its connect and its disconnect with why', async () => {
    const { port, reported, joined, doors } = await open();
    const ann = await visit(port);
    const connection = await firstValueFrom(joined);
    expect(connection).toMatchObject({ id: '1', from: '127.0.0.1', secure: false });
    expect(await reportOf(reported, 'connect')).toEqual({ kind: 'connect', id: '1', from: `127.0.0.1:${ann.socket.localPort}`, tls: false });
    expect(doors.sockets()).toHaveLength(1);
    ann.socket.end();
    expect(await reportOf(reported, 'disconnect')).toEqual({ kind: 'disconnect', id: '1', reason: 'eof', error: undefined });
    expect(doors.sockets()).toEqual([]);
  });

  it('tells a connection past maxClients why on the plain door and closes it, and counts the refusal', async () => {
    const { port, reported, joined, doors } = await open(1);
    await visit(port);
    await firstValueFrom(joined);
    const bob = await visit(port);
    const from = `127.0.0.1:${bob.socket.localPort}`; // a closed socket forgets its port
    expect(await bob.rest()).toBe(SERVER_FULL);
    expect(await reportOf(reported, 'full')).toEqual({ kind: 'full', from });
    expect(doors.sockets()).toHaveLength(1);
  });

  it('says goodbye to every connection at a shutdown and resolves once each has closed, each close the shutdown\'s', async () => {
    const { port, reported, joined, doors } = await open();
    const ann = await visit(port);
    await firstValueFrom(joined);
    const allClosed = doors.shutDown();
    expect(doors.shuttingDown).toBe(true);
    doors.farewellAll();
    expect(await ann.rest()).toBe(SHUTTING_DOWN);
    await allClosed;
    expect(await reportOf(reported, 'disconnect')).toEqual({ kind: 'disconnect', id: '1', reason: 'shutdown', error: undefined });
  });

  it("has a door that is not telnet's hide its user's typing through the connection's own conceal", async () => {
    const told: boolean[] = [];
    const door = (raw: Socket): DoorConnection => ({ stream: raw, raw, door: 'web', secure: true, from: '127.0.0.1', peer: 'a proxy', conceal: (hidden) => told.push(hidden) });
    const { port, joined, fanout } = await open(10, door);
    await visit(port);
    const { id } = await firstValueFrom(joined);
    fanout.deliver({ kind: 'conceal', to: id, hidden: true });
    fanout.deliver({ kind: 'conceal', to: id, hidden: false });
    expect(told).toEqual([true, false]);
  });
});
