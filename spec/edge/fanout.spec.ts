import { once } from 'node:events';
import { connect, createServer, type Server, Socket } from 'node:net';
import { localFanout, MAX_SEND_QUEUE_BYTES, MAX_WRITE_BYTES } from '../../lib/edge/fanout';
import type { Duplex } from 'node:stream';
import type { Outgoing } from '../../lib/chat/outgoing';

let server: Server;
const sockets: Socket[] = [];

/** A connected pair on loopback: the server's end, which the fanout writes, and the client's. */
async function pair(): Promise<{ near: Socket; far: Socket }> {
  const accepted = once(server, 'connection');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('TCP only');
  const far = connect(address.port, '127.0.0.1');
  const [near]: unknown[] = await accepted;
  if (!(near instanceof Socket)) throw new Error('no socket accepted');
  sockets.push(near, far);
  near.on('error', () => {});
  return { near, far };
}

async function read(socket: Socket, bytes: number): Promise<string> {
  let received = '';
  for await (const chunk of socket) {
    received += String(chunk);
    if (received.length >= bytes) break;
  }
  return received;
}

beforeEach(async () => {
  server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
});

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  server.close();
  await once(server, 'close');
});

describe('localFanout', () => {
  it('writes to one socket or to the ones in the room, in the order given', async () => {
    const fanout = localFanout();
    const ann = await pair();
    const bob = await pair();
    fanout.attach('1', ann.near);
    fanout.attach('2', bob.near);
    const steps: Outgoing[] = [
      { kind: 'send', to: '1', text: 'welcome\n' }, { kind: 'enter', to: '1', room: '#main' }, { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'one\n' },
      { kind: 'send', to: '2', text: 'prompt: ' }, { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'two\n' }, { kind: 'send', to: '1', text: 'three\n' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    expect(await read(ann.far, 'welcome\none\ntwo\nthree\n'.length)).toBe('welcome\none\ntwo\nthree\n');
    expect(await read(bob.far, 'prompt: '.length)).toBe('prompt: ');
  });

  it("carries out a conceal through the socket's door, in its place among the texts it is owed, and ignores it where the door has none", async () => {
    const fanout = localFanout();
    const ann = await pair();
    const bob = await pair();
    const doorSaid = (socket: Duplex, hidden: boolean) => socket.write(hidden ? '[hide]' : '[show]');
    fanout.attach('1', ann.near, doorSaid);
    fanout.attach('2', bob.near);
    const steps: Outgoing[] = [
      { kind: 'enter', to: '1', room: '#main' }, { kind: 'enter', to: '2', room: '#main' }, { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'held\n' },
      { kind: 'conceal', to: '1', hidden: true }, { kind: 'conceal', to: '2', hidden: true }, { kind: 'send', to: '1', text: 'Password: ' },
      { kind: 'conceal', to: '1', hidden: false }, { kind: 'send', to: '2', text: 'Password: ' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    const annSees = 'held\n[hide]Password: [show]';
    expect(await read(ann.far, annSees.length)).toBe(annSees);
    expect(await read(bob.far, 'held\nPassword: '.length)).toBe('held\nPassword: ');
  });

  it('encodes the broadcasts of one turn of the event loop once, into one chunk every socket shares', async () => {
    const fanout = localFanout();
    const ann = await pair();
    const bob = await pair();
    const annWrites = jest.spyOn(ann.near, 'write');
    const bobWrites = jest.spyOn(bob.near, 'write');
    fanout.attach('1', ann.near);
    fanout.attach('2', bob.near);
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    fanout.deliver({ kind: 'enter', to: '2', room: '#main' });
    await new Promise(setImmediate); // the next turn: both are members from its start
    fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'a\n' });
    fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'b\n' });
    expect(await read(bob.far, 4)).toBe('a\nb\n');
    expect(annWrites.mock.calls).toEqual([[Buffer.from('a\nb\n')]]);
    expect(bobWrites.mock.calls[0]?.[0]).toBe(annWrites.mock.calls[0]?.[0]);
  });

  /** Ann is in the room; bob, then cat, log in one turn after the other, as a login storm does. */
  async function storm(loginBatchMs: number) {
    const fanout = localFanout(MAX_SEND_QUEUE_BYTES, loginBatchMs);
    const [ann, bob, cat] = [await pair(), await pair(), await pair()];
    [ann, bob, cat].forEach(({ near }, i) => fanout.attach(String(i + 1), near));
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    await new Promise(setImmediate);
    const annWrites = jest.spyOn(ann.near, 'write');
    fanout.deliver({ kind: 'enter', to: '2', room: '#main' });
    fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'bob joined\n' });
    await new Promise(setImmediate);
    fanout.deliver({ kind: 'enter', to: '3', room: '#main' });
    fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'cat joined\n' });
    expect(await read(ann.far, 'bob joined\ncat joined\n'.length)).toBe('bob joined\ncat joined\n');
    expect(await read(bob.far, 'bob joined\ncat joined\n'.length)).toBe('bob joined\ncat joined\n'); // the joiner too
    expect(await read(cat.far, 'cat joined\n'.length)).toBe('cat joined\n');
    return annWrites.mock.calls.map(([chunk]) => String(chunk));
  }

  it('holds the broadcasts while users are admitted turn after turn, and writes them in the first turn that admits nobody', async () => {
    expect(await storm(60_000)).toEqual(['bob joined\ncat joined\n']);
  });

  it('holds a login storm\'s broadcasts for no longer than loginBatchMs', async () => {
    expect(await storm(0)).toEqual(['bob joined\n', 'cat joined\n']);
  });

  it('writes a held batch once loginBatchMs has passed, though users are still being admitted', async () => {
    const fanout = localFanout(MAX_SEND_QUEUE_BYTES, 20);
    const [ann, cat] = [await pair(), await pair()];
    fanout.attach('1', ann.near);
    fanout.attach('2', cat.near);
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    await new Promise(setImmediate);
    const annWrites = jest.spyOn(ann.near, 'write');
    const said: string[] = [];
    // Cat, admitted again every turn, stands in for a storm that never lets up.
    for (let turn = 0; annWrites.mock.calls.length === 0; turn++) {
      if (turn > 1_000_000) throw new Error('the batch was never written');
      fanout.deliver({ kind: 'enter', to: '2', room: '#main' });
      said.push(`${turn}\n`);
      fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: `${turn}\n` });
      await new Promise(setImmediate);
    }
    const first = String(annWrites.mock.calls[0]?.[0]);
    expect(first).toBe(said.slice(0, first.split('\n').length - 1).join('')); // the oldest lines, in order
  });

  it('keeps each socket\'s share and order across a held batch: a line of its own, an exit, an entry', async () => {
    const fanout = localFanout(MAX_SEND_QUEUE_BYTES, 60_000);
    const [ann, bob, cat] = [await pair(), await pair(), await pair()];
    [ann, bob, cat].forEach(({ near }, i) => fanout.attach(String(i + 1), near));
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    fanout.deliver({ kind: 'enter', to: '2', room: '#main' });
    fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'one\n' });
    await new Promise(setImmediate); // held: this turn admitted
    const steps: Outgoing[] = [
      { kind: 'send', to: '1', text: 'own\n' }, { kind: 'exit', to: '2' }, { kind: 'enter', to: '3', room: '#main' },
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'two\n' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    expect(await read(ann.far, 'one\nown\ntwo\n'.length)).toBe('one\nown\ntwo\n');
    expect(await read(bob.far, 'one\n'.length)).toBe('one\n');
    expect(await read(cat.far, 'two\n'.length)).toBe('two\n');
  });

  it('flush() writes the batch at once', async () => {
    const fanout = localFanout(MAX_SEND_QUEUE_BYTES, 60_000);
    const ann = await pair();
    const annWrites = jest.spyOn(ann.near, 'write');
    fanout.attach('1', ann.near);
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'one\n' });
    fanout.flush();
    expect(annWrites.mock.calls.map(([chunk]) => String(chunk))).toEqual(['one\n']);
    expect(await read(ann.far, 4)).toBe('one\n');
    expect(annWrites).toHaveBeenCalledTimes(1); // the turn's own flush found nothing left
  });

  it('joins a turn\'s broadcasts into writes of at most MAX_WRITE_BYTES; a longer line is a write of its own', async () => {
    const fanout = localFanout();
    const ann = await pair();
    const annWrites = jest.spyOn(ann.near, 'write');
    fanout.attach('1', ann.near);
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    const line = (letter: string, bytes: number) => `${letter.repeat(bytes - 1)}\n`;
    const [a, b, c, d] = [line('a', MAX_WRITE_BYTES / 2), line('b', MAX_WRITE_BYTES / 2), line('c', 10), line('d', MAX_WRITE_BYTES * 2)];
    [a, b, c, d].forEach((text) => fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text }));
    expect(await read(ann.far, (a + b + c + d).length)).toBe(a + b + c + d);
    expect(annWrites.mock.calls.map(([chunk]) => String(chunk))).toEqual([a + b, c, d]);
  });

  it('gives each socket its own share across a write cut short by MAX_WRITE_BYTES mid-turn', async () => {
    const fanout = localFanout();
    const [ann, bob, cat] = [await pair(), await pair(), await pair()];
    [ann, bob, cat].forEach(({ near }, i) => fanout.attach(String(i + 1), near));
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    fanout.deliver({ kind: 'enter', to: '2', room: '#main' });
    await new Promise(setImmediate);
    const [a, b] = [`${'a'.repeat(40 * 1024)}\n`, `${'b'.repeat(40 * 1024)}\n`];
    const steps: Outgoing[] = [
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: a }, { kind: 'exit', to: '2' }, { kind: 'send', to: '3', text: 'welcome\n' },
      { kind: 'enter', to: '3', room: '#main' }, { kind: 'broadcast', room: '#main', hiddenFrom: [], text: b }, { kind: 'send', to: '1', text: 'own\n' },
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'c\n' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    expect(await read(ann.far, (a + b + 'own\nc\n').length)).toBe(`${a}${b}own\nc\n`);
    expect(await read(bob.far, a.length)).toBe(a);
    expect(await read(cat.far, ('welcome\n' + b + 'c\n').length)).toBe(`welcome\n${b}c\n`);
  });

  it('destroys a socket whose unread output passes the limit, and only that one', async () => {
    const fanout = localFanout(1000);
    const ann = await pair();
    const bob = await pair();
    fanout.attach('1', ann.near);
    fanout.attach('2', bob.near);
    ann.far.pause(); // ann reads nothing: the kernel's buffers fill, then chatd's own queue grows
    const annFailed = once(ann.near, 'error');
    const big = 'x'.repeat(256 * 1024);
    for (let sent = 0; sent < 40 && !ann.near.destroyed; sent++) fanout.deliver({ kind: 'send', to: '1', text: big });
    fanout.deliver({ kind: 'send', to: '2', text: 'still here\n' });
    expect(await annFailed).toEqual([expect.objectContaining({ code: 'CHAT_SEND_QUEUE_FULL' })]);
    expect(await read(bob.far, 11)).toBe('still here\n');
  });

  it('gives a socket that enters or exits mid-turn its own part of the shared chunk', async () => {
    const fanout = localFanout();
    const [ann, bob, cat] = [await pair(), await pair(), await pair()];
    const writes = [ann, bob, cat].map(({ near }) => jest.spyOn(near, 'write'));
    [ann, bob, cat].forEach(({ near }, i) => fanout.attach(String(i + 1), near));
    const steps: Outgoing[] = [
      { kind: 'enter', to: '1', room: '#main' }, { kind: 'enter', to: '2', room: '#main' }, { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'one\n' },
      { kind: 'exit', to: '2' }, { kind: 'send', to: '3', text: 'welcome\n' }, { kind: 'enter', to: '3', room: '#main' },
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'two\n' }, { kind: 'send', to: '1', text: 'own\n' }, { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'three\n' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    expect(await read(ann.far, 'one\ntwo\nown\nthree\n'.length)).toBe('one\ntwo\nown\nthree\n');
    expect(await read(bob.far, 'one\n'.length)).toBe('one\n');
    expect(await read(cat.far, 'welcome\ntwo\nthree\n'.length)).toBe('welcome\ntwo\nthree\n');
    const [bobPart, catPart] = [writes[1]?.mock.calls[0]?.[0], writes[2]?.mock.calls[1]?.[0]];
    if (!(bobPart instanceof Buffer && catPart instanceof Buffer)) throw new Error('the broadcasts were not written as Buffers');
    // Views of one encoding of "one\ntwo\nthree\n": cat's starts where bob's ends.
    expect(catPart.buffer).toBe(bobPart.buffer);
    expect(catPart.byteOffset).toBe(bobPart.byteOffset + bobPart.length);
  });

  it('forgets a detached socket, leaves it out of the turn in progress and ignores output addressed to it', async () => {
    const fanout = localFanout();
    const [ann, bob] = [await pair(), await pair()];
    const annWrites = jest.spyOn(ann.near, 'write');
    fanout.attach('1', ann.near);
    fanout.attach('2', bob.near);
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    fanout.deliver({ kind: 'enter', to: '2', room: '#main' });
    fanout.deliver({ kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'one\n' });
    fanout.detach('1'); // what the server does on the socket's 'close'
    expect(() => fanout.deliver({ kind: 'send', to: '1', text: 'late\n' })).not.toThrow();
    expect(await read(bob.far, 'one\n'.length)).toBe('one\n');
    expect(annWrites).not.toHaveBeenCalled();
    expect(fanout.size).toBe(1);
  });
  it('keeps each room\'s broadcasts to its own audience', async () => {
    const fanout = localFanout();
    const [ann, bob] = [await pair(), await pair()];
    fanout.attach('1', ann.near);
    fanout.attach('2', bob.near);
    const steps: Outgoing[] = [
      { kind: 'enter', to: '1', room: '#main' }, { kind: 'enter', to: '2', room: '#games' },
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'main\n' },
      { kind: 'broadcast', room: '#games', hiddenFrom: [], text: 'games\n' },
      { kind: 'broadcast', room: '#empty', hiddenFrom: [], text: 'nobody\n' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    fanout.deliver({ kind: 'send', to: '1', text: 'end\n' });
    fanout.deliver({ kind: 'send', to: '2', text: 'end\n' });
    expect(await read(ann.far, 'main\nend\n'.length)).toBe('main\nend\n');
    expect(await read(bob.far, 'games\nend\n'.length)).toBe('games\nend\n');
  });

  it('leaves a hidden line out for those it is hidden from, and gives them the lines around it in order', async () => {
    const fanout = localFanout();
    const [ann, bob] = [await pair(), await pair()];
    const bobWrites = jest.spyOn(bob.near, 'write');
    fanout.attach('1', ann.near);
    fanout.attach('2', bob.near);
    fanout.deliver({ kind: 'enter', to: '1', room: '#main' });
    fanout.deliver({ kind: 'enter', to: '2', room: '#main' });
    await new Promise(setImmediate);
    const steps: Outgoing[] = [
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'one\n' },
      { kind: 'broadcast', room: '#main', hiddenFrom: ['2', '9'], text: 'hidden\n' },
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'two\n' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    expect(await read(ann.far, 'one\nhidden\ntwo\n'.length)).toBe('one\nhidden\ntwo\n');
    expect(await read(bob.far, 'one\ntwo\n'.length)).toBe('one\ntwo\n');
    expect(bobWrites.mock.calls.map(([chunk]) => String(chunk))).toEqual(['one\n', 'two\n']);
  });

  it('gives a socket that moves rooms mid-batch the old room\'s lines before the new room\'s', async () => {
    const fanout = localFanout(MAX_SEND_QUEUE_BYTES, 60_000);
    const [ann, bob] = [await pair(), await pair()];
    fanout.attach('1', ann.near);
    fanout.attach('2', bob.near);
    const steps: Outgoing[] = [
      { kind: 'enter', to: '1', room: '#main' }, { kind: 'enter', to: '2', room: '#games' },
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'main before\n' },
      { kind: 'broadcast', room: '#games', hiddenFrom: [], text: 'games before\n' },
      { kind: 'exit', to: '1' }, { kind: 'send', to: '1', text: 'history\n' }, { kind: 'enter', to: '1', room: '#games' },
      { kind: 'broadcast', room: '#main', hiddenFrom: [], text: 'main after\n' },
      { kind: 'broadcast', room: '#games', hiddenFrom: [], text: 'games after\n' },
    ];
    steps.forEach((step) => fanout.deliver(step));
    fanout.flush();
    const annSees = 'main before\nhistory\ngames after\n';
    expect(await read(ann.far, annSees.length)).toBe(annSees);
    expect(await read(bob.far, 'games before\ngames after\n'.length)).toBe('games before\ngames after\n');
  });
});
