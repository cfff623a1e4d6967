import { once } from 'node:events';
import { type Client, connectClient, type Harness, startHarness } from './support/client';
import { createChatServer, type ServerEvent } from '../lib/server';

let harness: Harness;
let events: ServerEvent[];
/** What a spec does as the server reports an event, inside the report. */
let onEvent: (event: ServerEvent) => void;

beforeEach(async () => {
  events = [];
  onEvent = () => {};
  // Flood limits lifted: these specs send faster than a person types.
  const rateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };
  harness = await startHarness({
    rateLimits,
    onEvent: (event) => {
      events.push(event);
      onEvent(event);
    },
  });
});

afterEach(async () => {
  await harness.stop();
});

/** Proves the room still works: `someone` says a line and every one of `all` reads exactly it next. */
async function stillChatting(someone: { client: Client; nick: string }, all: readonly Client[]): Promise<void> {
  someone.client.say('still here');
  const line = `[${someone.nick}] still here\n`;
  for (const client of all) expect(await client.until(line)).toBe(line);
}

/** Proves a new user can log in and is heard by those already in. */
async function newcomerJoins(already: readonly Client[]): Promise<void> {
  const carl = await harness.join('carl');
  for (const client of already) expect(await client.until('*** carl just joined the chatroom\n')).toBe('*** carl just joined the chatroom\n');
  await stillChatting({ client: carl, nick: 'carl' }, [carl, ...already]);
}

describe('chat over real sockets', () => {
  it('serves the transcript byte for byte to two clients', async () => {
    const funcuddles = await connectClient(harness.port);
    funcuddles.say('funcuddles');
    const seen = [await funcuddles.until('*** funcuddles just joined the chatroom\n')];
    const bob = await connectClient(harness.port);
    bob.say('bob');
    expect(await bob.until('chatroom\n')).toBe("Welcome to Jen's chat server!\nPlease enter your username: Welcome, bob\n*** bob just joined the chatroom\n");
    seen.push(await funcuddles.until('*** bob just joined the chatroom\n'));
    funcuddles.say('hello this is dog');
    seen.push(await funcuddles.until('[funcuddles] hello this is dog\n'));
    bob.say('bye funcuddles, I gotta go!');
    expect(await bob.until('go!\n')).toBe('[funcuddles] hello this is dog\n[bob] bye funcuddles, I gotta go!\n');
    bob.socket.end();
    expect(await bob.rest()).toBe(''); // the leaver never hears of its own leaving
    seen.push(await funcuddles.until('*** bob has disconnected\n'));
    expect(seen.join('')).toBe([
      "Welcome to Jen's chat server!",
      'Please enter your username: Welcome, funcuddles', // the prompt has no newline
      '*** funcuddles just joined the chatroom',
      '*** bob just joined the chatroom',
      '[funcuddles] hello this is dog',
      '[bob] bye funcuddles, I gotta go!',
      '*** bob has disconnected',
      '',
    ].join('\n'));
    funcuddles.socket.end();
    expect(await funcuddles.rest()).toBe('');
    funcuddles.socket.destroy();
    bob.socket.destroy();
  });

  it('treats "\\r\\n" as "\\n": no carriage return reaches a name or a line', async () => {
    const ann = await harness.visit();
    ann.socket.write('ann\r\nhello\r\n\r\n');
    expect(await ann.until('hello\n')).toBe('Welcome, ann\n*** ann just joined the chatroom\n[ann] hello\n');
    await stillChatting({ client: ann, nick: 'ann' }, [ann]); // the empty "\r\n" line said nothing
  });

  it('does not broadcast empty lines', async () => {
    const ann = await harness.join('ann');
    const bob = await harness.join('bob');
    await ann.until('*** bob just joined the chatroom\n');
    bob.socket.write('\n   \n\t\n');
    await stillChatting({ client: bob, nick: 'bob' }, [ann, bob]);
  });

  it('refuses a taken name, whatever its case, and asks again on the same connection', async () => {
    const bob = await harness.join('bob');
    const impostor = await harness.visit();
    impostor.say('BOB');
    expect(await impostor.until('username: ')).toBe('*** username bob is taken\nPlease enter your username: ');
    impostor.say('bob');
    expect(await impostor.until('username: ')).toBe('*** username bob is taken\nPlease enter your username: ');
    impostor.say('robert');
    expect(await impostor.until('chatroom\n')).toBe('Welcome, robert\n*** robert just joined the chatroom\n');
    expect(await bob.until('chatroom\n')).toBe('*** robert just joined the chatroom\n');
    await stillChatting({ client: bob, nick: 'bob' }, [bob, impostor]); // bob was neither evicted nor impersonated
  });

  it('refuses invalid names with the reason, then the prompt', async () => {
    const visitor = await harness.visit();
    const refusals: [string, string][] = [
      ['', 'username must not be empty'],
      ['two words', 'username must not contain spaces'],
      ['x'.repeat(33), 'username too long (max 32 characters)'],
    ];
    for (const [name, reason] of refusals) {
      visitor.say(name);
      expect(await visitor.until('username: ')).toBe(`*** ${reason}\nPlease enter your username: `);
    }
    visitor.say('x'.repeat(32));
    expect(await visitor.until('chatroom\n')).toBe(`Welcome, ${'x'.repeat(32)}\n*** ${'x'.repeat(32)} just joined the chatroom\n`);
  });

  it('broadcasts nothing for a connection that closes before logging in', async () => {
    const ann = await harness.join('ann');
    const visitor = await harness.visit();
    visitor.socket.end();
    await visitor.rest();
    await stillChatting({ client: ann, nick: 'ann' }, [ann]);
  });

  it('says goodbye once for a client that resets mid-chat; the rest chat on', async () => {
    const ann = await harness.join('ann');
    const bob = await harness.join('bob');
    bob.say('about to vanish');
    await ann.until('[bob] about to vanish\n');
    bob.socket.resetAndDestroy();
    expect(await ann.until('disconnected\n')).toBe('*** bob has disconnected\n');
    await stillChatting({ client: ann, nick: 'ann' }, [ann]);
    await newcomerJoins([ann]);
  });

  it('relays the last words of a client that half-closes, then says goodbye once', async () => {
    const ann = await harness.join('ann');
    const bob = await harness.join('bob');
    await ann.until('*** bob just joined the chatroom\n');
    bob.socket.end('last words, no newline');
    expect(await ann.until('disconnected\n')).toBe('[bob] last words, no newline\n*** bob has disconnected\n');
    expect(await bob.rest()).toBe('[bob] last words, no newline\n'); // its own line reaches it, then the server closes
    await stillChatting({ client: ann, nick: 'ann' }, [ann]);
    await newcomerJoins([ann]);
  });

  it('gives a client that logs in, speaks and half-closes in one write all it is owed before closing', async () => {
    const witness = await harness.join('witness');
    const zed = await harness.open();
    zed.socket.end('zed\nhello\n');
    expect(await zed.rest()).toBe(
      "Welcome to Jen's chat server!\nPlease enter your username: Welcome, zed\n*** zed just joined the chatroom\n[zed] hello\n",
    );
    expect(await witness.until('disconnected\n')).toBe('*** zed just joined the chatroom\n[zed] hello\n*** zed has disconnected\n');
  });

  it('says goodbye once for a client that vanishes while a broadcast is being written to it', async () => {
    const ann = await harness.join('ann');
    const bob = await harness.join('bob');
    await ann.until('*** bob just joined the chatroom\n');
    bob.socket.pause(); // stops reading: the server's writes to bob back up
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'.'.repeat(1000)}`);
    ann.socket.write(lines.map((line) => `${line}\n`).join(''));
    await ann.until(`[ann] ${lines[lines.length - 1]}\n`);
    bob.socket.resetAndDestroy();
    expect(await ann.until('disconnected\n')).toBe('*** bob has disconnected\n');
    await stillChatting({ client: ann, nick: 'ann' }, [ann]);
    await newcomerJoins([ann]);
    expect(events.filter((event) => event.kind === 'logout' && event.nick === 'bob')).toHaveLength(1);
  });

  it('frees a leaver\'s name at once', async () => {
    const ann = await harness.join('ann');
    const bob = await harness.join('bob');
    bob.socket.resetAndDestroy();
    await ann.until('*** bob has disconnected\n');
    const bobAgain = await harness.join('bob');
    await ann.until('*** bob just joined the chatroom\n');
    await stillChatting({ client: bobAgain, nick: 'bob' }, [ann, bobAgain]);
  });
});

describe('createChatServer', () => {
  it('reports its address while listening and none after close', async () => {
    expect(harness.server.address()).toEqual(expect.objectContaining({ address: '127.0.0.1', port: harness.port }));
    await harness.stop();
    expect(harness.server.address()).toBeNull();
  });

  it('tells every user it is shutting down, on a line of its own after a prompt, and resolves close() once every socket is closed', async () => {
    const ann = await harness.join('ann');
    const visitor = await harness.visit();
    const annClosed = once(ann.socket, 'close');
    const visitorClosed = once(visitor.socket, 'close');
    await harness.server.close();
    expect(await ann.rest()).toBe('*** server shutting down\n');
    expect(await visitor.rest()).toBe('\n*** server shutting down\n');
    await Promise.all([annClosed, visitorClosed]);
    expect(events.filter((event) => event.kind === 'disconnect')).toHaveLength(2);
  });

  it('writes what the room said before the shutdown notice, though the turn it was said in had not ended', async () => {
    const ann = await harness.join('ann');
    let closing: Promise<void> | undefined;
    onEvent = (event) => {
      // Reported as bob is admitted: his join line is queued next, and the turn goes on.
      if (event.kind === 'login' && event.nick === 'bob') queueMicrotask(() => (closing = harness.server.close()));
    };
    const bob = await harness.visit();
    bob.say('bob');
    expect(await ann.rest()).toBe('*** bob just joined the chatroom\n*** server shutting down\n');
    expect(await bob.rest()).toBe('Welcome, bob\n*** bob just joined the chatroom\n*** server shutting down\n');
    await closing;
  });

  it('rejects listen() when the port is taken', async () => {
    const squatter = createChatServer({ host: '127.0.0.1', port: harness.port });
    await expect(squatter.listen()).rejects.toThrow(expect.objectContaining({ code: 'EADDRINUSE' }));
  });
});
