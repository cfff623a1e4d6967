import { once } from 'node:events';
import { Socket } from 'node:net';
import { MAX_WRITE_BYTES, SendQueueFullError } from '../lib/edge/fanout';
import type { ChatServerOptions, ServerEvent } from '../lib/server';
import { type Client, type Harness, startHarness, writeUnterminated } from './support/client';

/** Flood limits out of the way, for specs about something else that send fast. */
const UNLIMITED_RATE = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };

let harness: Harness | undefined;
let events: ServerEvent[] = [];
let waiters: { matches: (event: ServerEvent) => boolean; resolve: (event: ServerEvent) => void }[] = [];

async function start(options: Partial<ChatServerOptions>): Promise<Harness> {
  const received: ServerEvent[] = [];
  events = received;
  const onEvent = (event: ServerEvent) => {
    received.push(event);
    waiters = waiters.filter((waiter) => !waiter.matches(event) || (waiter.resolve(event), false));
  };
  harness = await startHarness({ ...options, onEvent });
  return harness;
}

/** Resolves at the first server event that `matches`, past or future. */
function serverEvent(matches: (event: ServerEvent) => boolean): Promise<ServerEvent> {
  const seen = events.find(matches);
  if (seen !== undefined) return Promise.resolve(seen);
  return new Promise((resolve) => waiters.push({ matches, resolve }));
}

afterEach(async () => {
  waiters = [];
  await harness?.stop();
  harness = undefined;
});

const numbered = (count: number, pad = 0): string[] =>
  Array.from({ length: count }, (_, i) => `line ${i + 1}${pad > 0 ? ` ${'.'.repeat(pad)}` : ''}`);
const typed = (lines: readonly string[]) => lines.map((line) => `${line}\n`).join('');
const said = (nick: string, lines: readonly string[]) => lines.map((line) => `[${nick}] ${line}\n`).join('');

/** Writes as fast as the socket drains until it is no longer writable or `stop()`. */
function flood(socket: Socket, chunk: string): () => void {
  let stopped = false;
  const pump = (): void => {
    while (!stopped && socket.writable) if (!socket.write(chunk)) return void socket.once('drain', pump);
  };
  pump();
  return () => (stopped = true);
}

/** What a client still sending reads until the server closes; its sending stops at `last`. */
async function lastWordsWhileSending(client: Client, stop: () => void, last: string): Promise<string> {
  try {
    return (await client.until(last)) + (await client.rest());
  } finally {
    stop();
  }
}

/** The witness's check: `witness` says a line, and reads exactly `expected` and then that line. */
async function witnessReads(witness: Client, expected: string): Promise<void> {
  witness.say('witness here');
  expect(await witness.until('[witness] witness here\n')).toBe(`${expected}[witness] witness here\n`);
}

describe('line length', () => {
  it('drops a line over the limit that arrives whole, tells the sender, and keeps the connection', async () => {
    const { join } = await start({ maxLineBytes: 64 });
    const witness = await join('witness');
    const off = await join('off');
    await witness.until('*** off just joined the chatroom\n');
    off.socket.write(`${'x'.repeat(65)}\n${'y'.repeat(64)}\n${'é'.repeat(33)}\nafter\n`); // é is 2 bytes: 66
    expect(await off.until('[off] after\n')).toBe(
      `*** line too long (max 64 bytes)\n[off] ${'y'.repeat(64)}\n*** line too long (max 64 bytes)\n[off] after\n`,
    );
    await witnessReads(witness, `[off] ${'y'.repeat(64)}\n[off] after\n`);
  });

  it('drops 10 MiB without a newline as it arrives, and the room chats on meanwhile', async () => {
    const { join } = await start({});
    const witness = await join('witness');
    const off = await join('off');
    await witness.until('*** off just joined the chatroom\n');
    await writeUnterminated(off.socket, 5 * 1024 * 1024);
    witness.say('halfway');
    await writeUnterminated(off.socket, 5 * 1024 * 1024);
    // Told before its newline was sent: the server dropped the line as it came, not at its end.
    expect(await off.until('\n')).toBe('*** line too long (max 4096 bytes)\n');
    off.socket.write('\nafter\n');
    expect(await off.until('[off] after\n')).toBe('[witness] halfway\n[off] after\n');
    await witnessReads(witness, '[witness] halfway\n[off] after\n');
  });
});

describe('login time', () => {
  it('closes a connection that gives no valid name in time, the notice on a line of its own; logged-in users stay', async () => {
    const { join, visit } = await start({ loginTimeoutMs: 300 });
    const witness = await join('witness');
    const silent = await visit();
    const fumbler = await visit();
    fumbler.say('');
    expect(await silent.rest()).toBe('\n*** login timed out\n');
    expect(await fumbler.rest()).toBe('*** username must not be empty\nPlease enter your username: \n*** login timed out\n');
    await witnessReads(witness, ''); // logged in before the deadline passed, still here after it
  });

  it('gets the timeout line to a connection still sending when its time is up, with no reset', async () => {
    const { visit } = await start({ loginTimeoutMs: 300, maxLoginBytes: Number.MAX_SAFE_INTEGER });
    const typist = await visit();
    const stop = flood(typist.socket, 'z'.repeat(16 * 1024)); // one endless name
    expect(await lastWordsWhileSending(typist, stop, 'timed out\n')).toBe(
      '*** username too long (max 32 characters)\nPlease enter your username: \n*** login timed out\n',
    );
    expect(typist.socket.errored).toBeNull(); // a reset would have been its answer to our close
  });
});

describe('idle peers', () => {
  it('turns TCP keepalive on for every socket, and a peer it finds dead leaves like any other', async () => {
    const setKeepAlive = jest.spyOn(Socket.prototype, 'setKeepAlive');
    try {
      const { join } = await start({ keepAliveIdleMs: 1234 });
      const witness = await join('witness');
      await join('ghost');
      await witness.until('*** ghost just joined the chatroom\n');
      expect(setKeepAlive.mock.calls).toEqual([[true, 1234], [true, 1234]]);
      const ghostSide = setKeepAlive.mock.contexts[1];
      if (!(ghostSide instanceof Socket)) throw new Error('keepalive was set on something else');
      // What the kernel reports when keepalive probes go unanswered.
      ghostSide.destroy(Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' }));
      await witnessReads(witness, '*** ghost has disconnected\n');
      expect(await serverEvent((event) => event.kind === 'disconnect' && event.id === '2')).toEqual({ kind: 'disconnect', id: '2', reason: 'error', error: 'ETIMEDOUT' });
    } finally {
      setKeepAlive.mockRestore();
    }
  });
});

describe('send queue', () => {
  it('disconnects a user who stops reading; the others receive every line in order meanwhile', async () => {
    const limit = 64 * 1024;
    const { join } = await start({ maxSendQueueBytes: limit, rateLimits: UNLIMITED_RATE });
    const witness = await join('witness');
    const stuck = await join('stuck');
    const talker = await join('talker');
    await witness.until('*** talker just joined the chatroom\n');
    stuck.socket.pause();
    const stuckGone = serverEvent((event) => event.kind === 'logout' && event.nick === 'stuck');
    let gone = false;
    void stuckGone.then(() => (gone = true));
    const lines = numbered(20_000, 1000); // far more than loopback's buffers hold
    let heard = '';
    let sent = 0;
    // The queue is largest the moment it is cut off: seen from inside the destroy.
    const cutOffs: number[] = [];
    const destroy = Socket.prototype.destroy;
    const spy = jest.spyOn(Socket.prototype, 'destroy').mockImplementation(function (this: Socket, error?: Error) {
      if (error instanceof SendQueueFullError) cutOffs.push(this.writableLength);
      return destroy.call(this, error);
    });
    try {
      while (sent < lines.length && !gone) {
        const batch = lines.slice(sent, sent + 500);
        talker.socket.write(typed(batch));
        sent += batch.length;
        heard += await witness.until(`[talker] ${batch[batch.length - 1]}\n`);
      }
    } finally {
      spy.mockRestore();
    }
    expect(gone).toBe(true);
    // Cut off at the first write that finds more than the limit queued: past it by one write at most.
    expect(cutOffs).toHaveLength(1);
    expect(cutOffs[0]).toBeGreaterThan(limit);
    expect(cutOffs[0]).toBeLessThanOrEqual(limit + MAX_WRITE_BYTES);
    expect(await serverEvent((event) => event.kind === 'disconnect' && event.id === '2')).toEqual({ kind: 'disconnect', id: '2', reason: 'send_queue', error: 'CHAT_SEND_QUEUE_FULL' });
    witness.say('witness here');
    heard += await witness.until('[witness] witness here\n');
    expect(heard.match(/\*\*\* stuck has disconnected\n/g)).toHaveLength(1);
    expect(heard.replace('*** stuck has disconnected\n', '')).toBe(`${said('talker', lines.slice(0, sent))}[witness] witness here\n`);
    stuck.socket.resume();
    await stuck.rest(); // the offender's connection is closed
  });
});

describe('flood', () => {
  it('delays lines over the rate, in order, without losing one', async () => {
    const { join } = await start({ rateLimits: { linesPerSecond: 50, burstLines: 5, maxQueuedLines: 100 } });
    const witness = await join('witness');
    const paster = await join('paster');
    await witness.until('*** paster just joined the chatroom\n');
    const block = numbered(40);
    const pastedAt = Date.now();
    paster.socket.write(typed(block));
    expect(await witness.until('[paster] line 40\n')).toBe(said('paster', block));
    // 35 lines over the burst, at 50 a second, cannot all be out before 700 ms.
    expect(Date.now() - pastedAt).toBeGreaterThanOrEqual(650);
    expect(await paster.until('[paster] line 40\n')).toBe(said('paster', block));
  });

  it('drops lines past the queue with one "slow down" per burst, and takes lines again once drained', async () => {
    const { join } = await start({ rateLimits: { linesPerSecond: 20, burstLines: 1, maxQueuedLines: 10 } });
    const witness = await join('witness');
    const flooder = await join('flooder');
    await witness.until('*** flooder just joined the chatroom\n');
    const block = numbered(200);
    flooder.socket.write(typed(block)); // one write: read in one go
    // One line passes at once, ten wait their turn, the other 189 are dropped.
    const kept = block.slice(0, 11);
    expect(await witness.until('[flooder] line 11\n')).toBe(said('flooder', kept));
    expect(await flooder.until('[flooder] line 11\n')).toBe(`[flooder] line 1\n*** slow down\n${said('flooder', kept.slice(1))}`);
    flooder.say('drained');
    expect(await flooder.until('[flooder] drained\n')).toBe('[flooder] drained\n');
    await witnessReads(witness, '[flooder] drained\n');
  });
});

describe('a connection lost with lines still paced', () => {
  const rateLimits = { linesPerSecond: 10, burstLines: 2, maxQueuedLines: 100 };

  it("drops what waits and says goodbye within a second when it is reset after its peer's end", async () => {
    const { join } = await start({ rateLimits });
    const witness = await join('witness');
    const gone = await join('gone');
    await witness.until('*** gone just joined the chatroom\n');
    gone.socket.end(typed(numbered(40))); // four seconds of lines at this rate, then a half-close
    await witness.until('[gone] line 3\n'); // paced: the burst is out, the rest waits
    gone.socket.resetAndDestroy();
    const seen = await witness.until('*** gone has disconnected\n');
    // The write that finds the reset may carry a line or two first: not the 37 that waited.
    expect(seen).not.toContain('line 10\n');
  });

  it('keeps pacing what a half-closed connection sent, then says goodbye', async () => {
    const { join } = await start({ rateLimits });
    const witness = await join('witness');
    const done = await join('done');
    await witness.until('*** done just joined the chatroom\n');
    const block = numbered(12);
    done.socket.end(typed(block));
    expect(await witness.until('*** done has disconnected\n')).toBe(`${said('done', block)}*** done has disconnected\n`);
  });
});

describe('connections', () => {
  it('tells a connection over the limit the server is full and closes it; a freed place is taken again', async () => {
    const { join, open } = await start({ maxClients: 2 });
    const witness = await join('witness');
    const bob = await join('bob');
    const extra = await open();
    expect(await extra.rest()).toBe('*** server full\n');
    await witnessReads(witness, '*** bob just joined the chatroom\n');
    bob.socket.end();
    await serverEvent((event) => event.kind === 'disconnect' && event.id === '2');
    const carl = await join('carl');
    carl.say('in');
    await witnessReads(witness, '*** bob has disconnected\n*** carl just joined the chatroom\n[carl] in\n');
  });

  it('gets "server full" to a connection already sending, with no reset', async () => {
    const { join, open } = await start({ maxClients: 1 });
    await join('witness');
    const extra = await open();
    const stop = flood(extra.socket, 'lines, lines\n'.repeat(1000));
    expect(await lastWordsWhileSending(extra, stop, '\n')).toBe('*** server full\n');
    expect(extra.socket.errored).toBeNull();
  });
});

describe('before login', () => {
  it('closes a connection at its 10th refused username, saying why, with no prompt after', async () => {
    const { visit } = await start({});
    const fumbler = await visit();
    fumbler.socket.write('\n'.repeat(12));
    const refusal = '*** username must not be empty\n';
    expect(await fumbler.rest()).toBe(`${`${refusal}Please enter your username: `.repeat(9)}${refusal}*** too many refused usernames\n`);
  });

  it('takes the limit on refused usernames from its options', async () => {
    const { visit } = await start({ maxNameAttempts: 2 });
    const fumbler = await visit();
    fumbler.say('a b');
    fumbler.say('');
    expect(await fumbler.rest()).toBe(
      '*** username must not contain spaces\nPlease enter your username: *** username must not be empty\n*** too many refused usernames\n',
    );
  });

  it('closes a connection that sends 64 KiB without logging in, as the bytes arrive', async () => {
    const { join, visit } = await start({});
    const witness = await join('witness');
    const hog = await visit();
    hog.socket.write(Buffer.alloc(10 * 1024 * 1024, 'z')); // no newline: a line split2 drops as it goes
    expect(await hog.rest()).toBe(
      '*** username too long (max 32 characters)\nPlease enter your username: *** too much input before login (max 65536 bytes)\n',
    );
    expect(hog.socket.errored).toBeNull();
    await witnessReads(witness, ''); // nothing of it reached the room
  });

  it('counts input before login only: a user logged in may send more', async () => {
    const { join, visit } = await start({ maxLoginBytes: 100 });
    const witness = await join('witness');
    const early = await join('early');
    early.say('x'.repeat(200));
    await witnessReads(witness, `*** early just joined the chatroom\n[early] ${'x'.repeat(200)}\n`);
    const late = await visit();
    late.socket.write('x'.repeat(101));
    expect(await late.rest()).toBe('*** too much input before login (max 100 bytes)\n');
  });
});

describe('input that is not plain text', () => {
  const IAC = 0xff;
  const WILL = 0xfb;
  const DO = 0xfd;
  const SB = 0xfa;
  const SE = 0xf0;

  it('removes telnet commands, subnegotiation included, from names and lines', async () => {
    const { join, visit } = await start({});
    const witness = await join('witness');
    const telnet = await visit();
    telnet.socket.write(Buffer.from([IAC, WILL, 0x18, ...Buffer.from('an'), IAC, DO, 0x01, ...Buffer.from('n\r\n')]));
    // First the refusals of what it offered, IAC DONT TERMINAL-TYPE and IAC WONT ECHO, read here as text.
    expect(await telnet.until('chatroom\n')).toBe('\ufffd\ufffd\x18\ufffd\ufffd\x01Welcome, ann\n*** ann just joined the chatroom\n');
    telnet.socket.write(Buffer.from([...Buffer.from('hel'), IAC, SB, 0x18, 0x00, ...Buffer.from('xterm'), IAC, SE, ...Buffer.from('lo\r\n')]));
    expect(await telnet.until('[ann] hello\n')).toBe('[ann] hello\n');
    await witnessReads(witness, '*** ann just joined the chatroom\n[ann] hello\n');
  });

  it('strips control characters and escape sequences from lines, and refuses them in names', async () => {
    const { join, visit } = await start({});
    const witness = await join('witness');
    const off = await visit();
    off.say('\x1b[2Jevil');
    expect(await off.until('username: ')).toBe('*** username must not contain control characters\nPlease enter your username: ');
    off.say('off');
    await off.until('*** off just joined the chatroom\n');
    off.say('\x1b[31mred\x1b[0m \x07bell\x08 \x1b]0;title\x07osc\u009b2Jc1\ttab\x7f');
    off.say('\x1b[2J\x1b[H'); // nothing left: not broadcast
    off.say('plain');
    expect(await off.until('[off] plain\n')).toBe('[off] red bell oscc1\ttab\n[off] plain\n');
    await witnessReads(witness, '*** off just joined the chatroom\n[off] red bell oscc1\ttab\n[off] plain\n');
  });

  it('relays invalid UTF-8 as U+FFFD and removes NUL bytes', async () => {
    const { join } = await start({});
    const witness = await join('witness');
    const off = await join('off');
    // 0xfe never occurs in UTF-8; 0xc3 needs a continuation byte; 0xff is telnet's escape, doubled.
    off.socket.write(Buffer.from([0x68, 0x69, 0xfe, 0x00, 0x21, 0x0a, 0x00, 0x00, 0x0a, 0xc3, 0x0a, 0xff, 0xff, 0x0a]));
    off.say('plain');
    const relayed = '[off] hi\uFFFD!\n[off] \uFFFD\n[off] \uFFFD\n[off] plain\n';
    expect(await off.until('[off] plain\n')).toBe(relayed);
    await witnessReads(witness, `*** off just joined the chatroom\n${relayed}`);
  });
});

describe('shutdown', () => {
  it('tells everyone, flushes and closes every socket, and does not wait forever on a non-reader', async () => {
    const { server, join } = await start({ shutdownGraceMs: 300, maxSendQueueBytes: 1024 ** 3, rateLimits: UNLIMITED_RATE });
    const witness = await join('witness');
    const stuck = await join('stuck');
    stuck.socket.pause();
    const lines = numbered(4000, 4000); // 16 MB: more than loopback's buffers hold for the non-reader
    witness.socket.write(typed(lines));
    await witness.until(`[witness] ${lines[lines.length - 1]}\n`);
    const stuckClosed = once(stuck.socket, 'close');
    await server.close();
    expect(await witness.rest()).toBe('*** server shutting down\n');
    stuck.socket.resume();
    // Cut off, not flushed: the notice was still queued behind what it never read.
    expect(await stuck.rest()).not.toContain('*** server shutting down\n');
    await stuckClosed;
    expect(server.users()).toEqual([]);
  });
});
