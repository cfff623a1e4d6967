import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MAX_PASSWORD_TRIES } from '../lib/chat/accounts';
import * as text from '../lib/chat/texts';
import { DATA_FILE_NAME, fileStore } from '../lib/store/file';
import { DAY_MS } from '../lib/store/registry';
import { readEntry } from '../lib/store/log';
import type { AccountRecord } from '../lib/store/store';
import type { ServerEvent } from '../lib/server';
import { type Client, type Harness, startHarness } from './support/client';
import { sample, scrape } from './support/scrape';
import { certificateFolder, connectTlsClient, makeCertificate } from './support/tls';

let harness: Harness;
let events: ServerEvent[];
let dataDir: string;

const SECRET = 'correct-horse';
const rateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };

beforeEach(async () => {
  events = [];
  dataDir = await mkdtemp(join(tmpdir(), 'chatd-data-'));
  harness = await startHarness({ rateLimits, dataDir, maxPasswordWaitMs: 50, onEvent: (event) => events.push(event) });
});

afterEach(async () => {
  await harness.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Logs in as `nick` and registers it with SECRET. */
async function registered(nick: string): Promise<Client> {
  const client = await harness.join(nick);
  client.say(`/register ${SECRET}`);
  await client.until('is registered to you; logging in with it will ask for your password\n');
  return client;
}

/** Connects and gives `nick`, reading through the password prompt. */
async function askedForPassword(nick: string): Promise<Client> {
  const client = await harness.visit();
  client.say(nick);
  await client.until('Password: ');
  return client;
}

describe('registered names', () => {
  it('asks a registered name for its password before Welcome', async () => {
    const ann = await harness.join('ann');
    ann.say(`/register ${SECRET}`);
    expect(await ann.until('password\n')).toBe([
      '*** warning: this connection is not encrypted; your password crosses the network in clear',
      '*** ann is registered to you; logging in with it will ask for your password',
      '',
    ].join('\n'));
    ann.say('/quit');
    await ann.rest();
    const again = await harness.visit();
    again.say('ann');
    expect(await again.until('Password: ')).toBe('*** warning: this connection is not encrypted; your password crosses the network in clear\nPassword: ');
    again.say('not-the-one');
    expect(await again.until('Password: ')).toBe('*** wrong password\nPassword: ');
    again.say(SECRET);
    expect(await again.until('chatroom\n')).toBe('Welcome, ann\n*** ann just joined the chatroom\n');
  });

  it('asks for the password of a lookalike of a registered name', async () => {
    (await registered('bob')).say('/quit');
    const visitor = await askedForPassword('BOB');
    visitor.say(SECRET);
    expect(await visitor.until('chatroom\n')).toBe('Welcome, BOB\n*** BOB just joined the chatroom\n');
  });

  it(`closes the connection after ${MAX_PASSWORD_TRIES} wrong passwords, logs each, and once that the address is slowed`, async () => {
    (await registered('ann')).say('/quit');
    const guesser = await askedForPassword('ann');
    for (let i = 1; i < MAX_PASSWORD_TRIES; i++) {
      guesser.say(`guess-${i}`);
      await guesser.until('*** wrong password\nPassword: ');
    }
    guesser.say('guess-last');
    expect(await guesser.rest()).toBe('*** wrong password\n*** too many password tries; closing the connection\n');
    expect(events.filter((event) => event.kind === 'account' && event.change.kind === 'wrong-password')).toHaveLength(MAX_PASSWORD_TRIES);
    expect(events.filter((event) => event.kind === 'account' && event.change.kind === 'slowed')).toEqual([
      { kind: 'account', change: { kind: 'slowed', what: 'address', key: '127.0.0.1' } }, // the name not: ann registered from here
    ]);
  });

  it('checks the right password after 9 wrong ones from the address, each answered within the longest wait', async () => {
    (await registered('ann')).say('/quit');
    for (let connection = 0; connection < 3; connection++) {
      const guesser = await askedForPassword('ann');
      for (let i = 1; i <= MAX_PASSWORD_TRIES; i++) {
        guesser.say(`guess-${i}`);
        await guesser.until('*** wrong password\n');
      }
    }
    const owner = await askedForPassword('ann');
    owner.say(SECRET);
    expect(await owner.until('chatroom\n')).toBe('Welcome, ann\n*** ann just joined the chatroom\n');
  });

  it('checks guesses sent at once from many connections of one address in turn, does not check those past the longest wait, and counts them in the metrics', async () => {
    await harness.stop();
    harness = await startHarness({ rateLimits, dataDir, maxPasswordWaitMs: 2000, metricsListen: { host: '127.0.0.1', port: 0 } });
    (await registered('ann')).say('/quit');
    const guessers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => askedForPassword('ann')));
    for (const guesser of guessers) guesser.say('a-wrong-guess');
    // The fourth is spaced a second out; the fifth and sixth, past two, are not checked. The first five answers:
    const answers: string[] = [];
    await new Promise<void>((resolve) => {
      for (const guesser of guessers) {
        guesser.until('\n').then((line) => answers.push(line) === 5 && resolve(), () => {});
      }
    });
    expect(answers.sort()).toEqual([...Array<string>(2).fill(text.PASSWORD_UNCHECKED), ...Array<string>(3).fill(text.WRONG_PASSWORD)].sort());
    const metrics = harness.server.metricsAddress();
    if (metrics === null) throw new Error('no metrics endpoint');
    const { body } = await scrape(metrics.port, '/metrics');
    expect(sample(body, 'chatd_password_checks_total{result="wrong"}')).toBe(3);
    expect(sample(body, 'chatd_password_checks_total{result="unchecked"}')).toBe(2);
    expect(sample(body, 'chatd_password_waits_total')).toBe(1);
  });

  it('changes a password with /password OLD NEW, the old one refused', async () => {
    const ann = await registered('ann');
    ann.say('/password wrong-password new-password');
    expect(await ann.until('\n')).toBe('*** wrong password\n');
    ann.say(`/password ${SECRET} short`);
    expect(await ann.until('\n')).toBe('*** a password is one word of 8 to 128 characters\n');
    ann.say(`/password ${SECRET} new-password`);
    expect(await ann.until('\n')).toBe('*** password changed\n');
    ann.say('/quit');
    const again = await askedForPassword('ann');
    again.say(SECRET);
    await again.until('*** wrong password\nPassword: ');
    again.say('new-password');
    await again.until('*** ann just joined the chatroom\n');
  });

  it('releases a name with /unregister PASSWORD', async () => {
    const ann = await registered('ann');
    ann.say('/unregister wrong-password');
    expect(await ann.until('\n')).toBe('*** wrong password\n');
    ann.say(`/unregister ${SECRET}`);
    expect(await ann.until('\n')).toBe('*** ann is no longer registered\n');
    ann.say('/unregister whatever-it-was');
    expect(await ann.until('\n')).toBe('*** ann is not registered\n');
    ann.say('/quit');
    await ann.rest();
    await harness.join('ann'); // no password asked
  });

  it('refuses to register a name twice, and a short password', async () => {
    const ann = await registered('ann');
    ann.say('/register another-secret');
    expect(await ann.until('\n')).toBe('*** ann is already registered\n');
    const bob = await harness.join('bob');
    bob.say('/register short');
    expect(await bob.until('\n')).toBe('*** a password is one word of 8 to 128 characters\n');
    bob.say('/register');
    expect(await bob.until('\n')).toBe('*** usage: /register PASSWORD\n');
  });

  it("refuses /nick to another user's registered name, and lets its owner take it back", async () => {
    const ann = await registered('ann');
    ann.say('/nick anna');
    await ann.until('*** ann is now known as anna\n');
    const bob = await harness.join('bob');
    bob.say('/nick ann');
    expect(await bob.until('\n')).toBe('*** username ann is registered\n');
    ann.say('/nick ann');
    await ann.until('*** anna is now known as ann\n');
  });

  it('keeps passwords out of events and the data file, which holds a salted scrypt hash', async () => {
    await registered('ann');
    const bob = await registered('bob');
    bob.say('/password correct-horse battery-staple');
    await bob.until('*** password changed\n');
    const file = await readFile(join(dataDir, DATA_FILE_NAME), 'utf8');
    for (const seen of [JSON.stringify(events), file]) {
      expect(seen).not.toContain(SECRET);
      expect(seen).not.toContain('battery-staple');
    }
    const accounts = new Map<string, AccountRecord>();
    for (const line of file.trimEnd().split('\n').slice(1)) {
      const entry = readEntry(line);
      if (typeof entry !== 'string' && entry.type === 'account' && entry.record !== null) accounts.set(entry.key, entry.record);
    }
    expect([...accounts.keys()]).toEqual(['ann', 'bob']);
    expect(accounts.get('ann')?.salt).not.toBe(accounts.get('bob')?.salt);
    expect(Buffer.from(accounts.get('ann')?.hash ?? '', 'base64')).toHaveLength(64);
  });

  it('refuses, in one line, a registration past the limit from one address in an hour', async () => {
    await harness.stop();
    harness = await startHarness({ rateLimits, dataDir, maxRegistrationsPerHour: 2, onEvent: (event) => events.push(event) });
    await registered('ann');
    await registered('bob');
    const cat = await harness.join('cat');
    cat.say(`/register ${SECRET}`);
    expect(await cat.until('later\n')).toMatch(/encrypted.*\n\*\*\* too many names registered from your address this hour; try again later\n$/);
    cat.say('/quit');
    await cat.rest();
    const visitor = await harness.visit();
    visitor.say('cat');
    expect(await visitor.until('\n')).toMatch(/^Welcome, cat/); // not registered
  });

  it('drops at start a name nobody logged into in the days after its registration, and lets anyone take it', async () => {
    await harness.stop();
    const store = fileStore(dataDir);
    await store.load();
    const old = { name: 'ghost', salt: 'c2FsdA==', hash: 'aGFzaA==', cost: 16384, registeredAt: Date.now() - 31 * DAY_MS };
    await store.change({ type: 'account', key: 'ghost', record: old, expected: null });
    await store.close();
    let onDropped: (event: ServerEvent) => void = () => {};
    const dropped = new Promise<ServerEvent>((resolve) => (onDropped = resolve));
    const onEvent = (event: ServerEvent) => (event.kind === 'account' && event.change.kind === 'expired' ? onDropped(event) : undefined);
    harness = await startHarness({ rateLimits, dataDir, onEvent });
    expect(await dropped).toEqual({ kind: 'account', change: { kind: 'expired', name: 'ghost', registeredAt: old.registeredAt } });
    const taker = await harness.visit();
    taker.say('ghost');
    expect(await taker.until('\n')).toMatch(/^Welcome, ghost/);
    expect(await readFile(join(dataDir, DATA_FILE_NAME), 'utf8')).toContain('{"type":"account","key":"ghost","record":null}');
  });

  it('keeps registrations across a restart of the server', async () => {
    await registered('ann');
    await harness.stop();
    harness = await startHarness({ rateLimits, dataDir });
    const ann = await askedForPassword('ann');
    ann.say(SECRET);
    await ann.until('*** ann just joined the chatroom\n');
  });

  it('reads no line typed while a password is checked', async () => {
    (await registered('ann')).say('/quit');
    const ann = await askedForPassword('ann');
    ann.socket.write(`${SECRET}\nhello\n`);
    expect(await ann.until('chatroom\n')).toBe('Welcome, ann\n*** ann just joined the chatroom\n');
    ann.say('after');
    expect(await ann.until('after\n')).toBe('[ann] after\n');
  });
});

describe('registered names with --require-tls-for-passwords', () => {
  let folder: Awaited<ReturnType<typeof certificateFolder>>;
  let tlsPort: number;
  const tlsClients: Client[] = [];

  beforeEach(async () => {
    await harness.stop();
    folder = await certificateFolder();
    const tls = { port: 0, ...(await makeCertificate(folder.dir, 'chat', 'localhost')) };
    harness = await startHarness({ rateLimits, dataDir, requireTlsForPasswords: true, tls });
    tlsPort = harness.server.tlsAddress()?.port ?? -1;
  });

  afterEach(async () => {
    for (const { socket } of tlsClients.splice(0)) socket.destroy();
    await folder.remove();
  });

  const overTls = async (): Promise<Client> => {
    const client = await connectTlsClient(tlsPort);
    tlsClients.push(client);
    await client.until('username: ');
    return client;
  };

  it('takes passwords over TLS with no warning, and refuses them over a plain connection', async () => {
    const ann = await overTls();
    ann.say('ann');
    await ann.until('chatroom\n');
    ann.say(`/register ${SECRET}`);
    expect(await ann.until('\n')).toBe('*** ann is registered to you; logging in with it will ask for your password\n');
    ann.say('/quit');
    await ann.rest();
    const plain = await harness.visit();
    plain.say('ann');
    expect(await plain.until('username: ')).toBe('*** ann is registered; its password is accepted over TLS only\nPlease enter your username: ');
    plain.say('bob');
    await plain.until('chatroom\n');
    plain.say(`/register ${SECRET}`);
    expect(await plain.until('\n')).toBe('*** passwords are accepted over TLS only\n');
    const again = await overTls();
    again.say('ann');
    expect(await again.until('Password: ')).toBe('Password: ');
    again.say(SECRET);
    await again.until('*** ann just joined the chatroom\n');
  });
});

describe('a registered name held by an open connection', () => {
  it('is taken over by a login with its password: the old connection is told and closed, the room sees no leave or join', async () => {
    const ann = await registered('ann');
    ann.say('/join #games');
    await ann.until('*** ann just joined #games\n');
    ann.say('/away phone asleep');
    await ann.until('*** you are away: phone asleep\n');
    const bob = await harness.join('bob');
    bob.say('/join #games');
    await bob.until('*** bob just joined #games\n');
    const back = await askedForPassword('ANN');
    back.say(SECRET);
    expect(await back.until('phone asleep\n')).toBe(
      'Welcome, ann\n*** your other connection was closed; you go on in #games\n*** you are away: phone asleep\n',
    );
    expect(await ann.rest()).toContain('*** you logged in elsewhere\n');
    back.say('still me');
    bob.say('/who');
    expect(await bob.until('(away: phone asleep)\n')).toBe('[ann] still me\n*** 2 in #games: bob, ann (away: phone asleep)\n');
    expect(events).toContainEqual({ kind: 'disconnect', id: expect.any(String), reason: 'replaced', error: undefined });
  });

  it('asks three times at most, and a wrong password leaves the open connection alone', async () => {
    const ann = await registered('ann');
    const stranger = await askedForPassword('ann');
    for (let tries = 1; tries < MAX_PASSWORD_TRIES; tries++) {
      stranger.say('not-the-one');
      await stranger.until('*** wrong password\nPassword: ');
    }
    stranger.say('not-the-one');
    expect(await stranger.rest()).toBe('*** wrong password\n*** too many password tries; closing the connection\n');
    ann.say('/who');
    expect(await ann.until('in #main')).toBe('*** 1 in #main');
  });

  it('is never taken over when unregistered: nothing proves who is who', async () => {
    await harness.join('bob');
    const other = await harness.visit();
    other.say('bob');
    expect(await other.until('username: ')).toBe('*** username bob is taken\nPlease enter your username: ');
  });
});
