import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as text from '../lib/chat/texts';
import type { ChatServerOptions, ServerEvent } from '../lib/server';
import { DATA_FILE_NAME, OLD_DATA_FILE_NAME, readDataFolder } from '../lib/store/file';
import { type Client, type Harness, readingClient, startHarness } from './support/client';

let harness: Harness;
let events: ServerEvent[];
let dataDir: string;
const others: Client[] = [];

const SECRET = 'correct-horse';
const rateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };
/** Where a spec's second machine connects from: Linux answers for all of 127.0.0.0/8. */
const OTHER_ADDRESS = '127.0.0.2';

const start = async (overrides: Partial<ChatServerOptions> = {}): Promise<Harness> =>
  startHarness({ rateLimits, dataDir, ops: ['ann'], maxPasswordWaitMs: 10, onEvent: (event) => events.push(event), ...overrides });

beforeEach(async () => {
  events = [];
  dataDir = await mkdtemp(join(tmpdir(), 'chatd-moderation-'));
  harness = await start();
});

afterEach(async () => {
  for (const { socket } of others.splice(0)) socket.destroy();
  await harness.stop();
  await rm(dataDir, { recursive: true, force: true });
});

/** Starts the server again on the same data, as a restart would. */
async function restart(): Promise<void> {
  await harness.stop();
  harness = await start();
}

/** Logs in as `nick`, registers it with SECRET, and leaves. */
async function register(nick: string): Promise<void> {
  const client = await harness.join(nick);
  client.say(`/register ${SECRET}`);
  await client.until('is registered to you; logging in with it will ask for your password\n');
  client.say('/quit');
  await client.rest();
}

/** Logs in as the registered `nick` with its password; reads through the join line. */
async function withPassword(nick: string): Promise<Client> {
  const client = await harness.visit();
  client.say(nick);
  await client.until('Password: ');
  client.say(SECRET);
  await client.until(`*** ${nick} just joined the chatroom\n`);
  return client;
}

/** ann, logged in with her password: an operator by --ops. */
async function operator(): Promise<Client> {
  await register('ann');
  const ann = await withPassword('ann');
  await ann.until('*** you are an operator\n');
  return ann;
}

/** Connects from OTHER_ADDRESS and reads nothing yet. */
async function fromOtherAddress(): Promise<Client> {
  const client = await readingClient(connect({ port: harness.port, host: '127.0.0.1', localAddress: OTHER_ADDRESS }), 'connect');
  others.push(client);
  return client;
}

/** The last line of `text`, with its newline. */
const lastLine = (text: string): string => /[^\n]*\n$/.exec(text)?.[0] ?? '';

const moderation = (): unknown[] => events.flatMap((event) => (event.kind === 'moderation' ? [event.action] : []));

describe('operators', () => {
  it('makes a --ops name an operator once it logs in with its password, and nobody else', async () => {
    await register('ann');
    const ann = await withPassword('ann');
    expect(await ann.until('\n')).toBe('*** you are an operator\n');
    await register('bob');
    const bob = await withPassword('bob');
    bob.say('/bans');
    expect(await bob.until('\n')).toBe('*** only operators may use /bans\n');
    ann.say('/bans');
    await ann.until('*** there are no bans\n');
  });

  it.each([
    ['/op ann'], ['/deop ann'], ['/kick ann'], ['/ban ann 1h'], ['/unban ann'], ['/bans'], ['/mute ann'], ['/unmute ann'], ['/motd hi'],
  ])('refuses %s from a user who is not an operator with one line', async (line) => {
    const bob = await harness.join('bob');
    bob.say(line);
    bob.say('/motd');
    const command = line.slice(1).split(' ')[0] ?? '';
    expect(await bob.until('*** there is no message of the day\n')).toBe(
      `*** only operators may use /${command}\n*** there is no message of the day\n`,
    );
  });

  it('/op makes a user who gave their password an operator, kept across a restart; /deop takes it back', async () => {
    const ann = await operator();
    await register('bob');
    const bob = await withPassword('bob');
    const cat = await harness.join('cat');
    ann.say('/op cat');
    await ann.until('*** cat has not logged in with the password of a registered name\n');
    ann.say('/op bob');
    expect(await ann.until('\n')).toBe('*** bob is now an operator\n');
    await bob.until('*** ann made you an operator\n');
    bob.say('/kick cat');
    await cat.until('*** you were kicked by bob\n');
    await restart();
    const bobAgain = await withPassword('bob');
    expect(await bobAgain.until('\n')).toBe('*** you are an operator\n');
    bobAgain.say('/deop ann');
    expect(await bobAgain.until('\n')).toBe('*** ann is an operator by configuration (--ops)\n');
    bobAgain.say('/deop bob');
    expect(await bobAgain.until('\n')).toBe('*** bob is no longer an operator\n');
    bobAgain.say('/bans');
    expect(await bobAgain.until('\n')).toBe('*** only operators may use /bans\n');
    expect(moderation()).toEqual([
      { action: 'op', by: 'ann', target: 'bob', detail: '' },
      { action: 'kick', by: 'bob', target: 'cat', detail: '' },
      { action: 'deop', by: 'bob', target: 'bob', detail: '' },
    ]);
  });
});

describe('an /op grant', () => {
  it("belongs to the account it was given to: it ends with /unregister and never passes to the name's next owner", async () => {
    const ann = await operator();
    await register('bob');
    const bob = await withPassword('bob');
    ann.say('/op bob');
    await bob.until('*** ann made you an operator\n');
    bob.say(`/unregister ${SECRET}`);
    await bob.until('*** bob is no longer registered\n');
    bob.say('/bans');
    expect(await bob.until('\n')).toBe('*** there are no bans\n'); // an operator until he leaves, as README says
    bob.say('/quit');
    await bob.rest();
    await register('bob'); // someone else takes the name and registers it
    const stranger = await withPassword('bob');
    stranger.say('/bans');
    expect(await stranger.until('\n')).toBe('*** only operators may use /bans\n');
    await restart();
    const strangerAgain = await withPassword('bob');
    strangerAgain.say('/bans');
    expect(await strangerAgain.until('\n')).toBe('*** only operators may use /bans\n');
  });

  it('binds a grant kept before grants named accounts to the account registered under its name at start', async () => {
    const ann = await operator();
    await register('bob');
    const bob = await withPassword('bob');
    ann.say('/op bob');
    await bob.until('*** ann made you an operator\n');
    await harness.stop();
    const { opAccounts, accounts, ops, bans, motd } = await readDataFolder(dataDir);
    expect({ ...opAccounts }).toEqual({ bob: expect.any(String) });
    const withoutIds = Object.fromEntries(Object.entries(accounts).map(([key, { id: _id, ...record }]) => [key, record]));
    await rm(join(dataDir, DATA_FILE_NAME)); // as the version before wrote it: chatd.json, moved into the log at start
    await writeFile(join(dataDir, OLD_DATA_FILE_NAME), JSON.stringify({ accounts: withoutIds, ops, bans, motd }));
    harness = await start();
    const bobAgain = await withPassword('bob');
    expect(await bobAgain.until('\n')).toBe('*** you are an operator\n');
    bobAgain.say(`/unregister ${SECRET}`);
    await bobAgain.until('*** bob is no longer registered\n');
    bobAgain.say('/quit');
    await bobAgain.rest();
    await register('bob');
    const stranger = await withPassword('bob');
    stranger.say('/bans');
    expect(await stranger.until('\n')).toBe('*** only operators may use /bans\n');
    await restart(); // the binding was kept: this start does not bind the grant to the stranger's account
    const strangerAgain = await withPassword('bob');
    strangerAgain.say('/bans');
    expect(await strangerAgain.until('\n')).toBe('*** only operators may use /bans\n');
  });

  it('holds through a password change and a restart', async () => {
    const ann = await operator();
    await register('bob');
    const bob = await withPassword('bob');
    ann.say('/op bob');
    await bob.until('*** ann made you an operator\n');
    bob.say(`/password ${SECRET} ${SECRET}-2`);
    await bob.until('*** password changed\n');
    bob.say(`/password ${SECRET}-2 ${SECRET}`);
    await bob.until('*** password changed\n');
    await restart();
    const bobAgain = await withPassword('bob');
    expect(await bobAgain.until('\n')).toBe('*** you are an operator\n');
  });
});

describe('/kick', () => {
  it('disconnects the user, tells their room why, and counts it as a kick', async () => {
    const ann = await operator();
    const bob = await harness.join('bob');
    const cat = await harness.join('cat');
    ann.say('/kick bob spamming the room');
    expect(await bob.rest()).toBe('*** cat just joined the chatroom\n*** you were kicked by ann: spamming the room\n');
    expect(await cat.until('disconnected\n')).toBe('*** bob was kicked by ann: spamming the room\n*** bob has disconnected\n');
    ann.say('/kick ann');
    expect(await ann.until('yourself\n')).toContain('*** you cannot kick yourself\n');
    expect(events).toContainEqual({ kind: 'disconnect', id: expect.any(String), reason: 'kick', error: undefined });
    expect(moderation()).toEqual([{ action: 'kick', by: 'ann', target: 'bob', detail: 'spamming the room' }]);
  });
});

describe('a kicked or banned user', () => {
  /** bob, logged in on a half-open connection: it can still write after the server has ended its side. */
  async function halfOpenBob(ann: Client): Promise<Client> {
    const bob = await readingClient(connect({ port: harness.port, host: '127.0.0.1', allowHalfOpen: true }), 'connect');
    others.push(bob);
    await bob.until('username: ');
    bob.say('bob');
    await ann.until('*** bob just joined the chatroom\n');
    return bob;
  }

  it('counts for nothing what they type while their connection closes', async () => {
    const ann = await operator();
    const bob = await halfOpenBob(ann);
    ann.say('/kick bob');
    await bob.until('*** you were kicked by ann\n');
    bob.socket.end('still here\n');
    expect(await ann.until('*** bob has disconnected\n')).toBe('*** bob was kicked by ann\n*** bob has disconnected\n');
  });

  it('counts for nothing what a banned user types while their connection closes', async () => {
    const ann = await operator();
    const bob = await halfOpenBob(ann);
    ann.say('/ban bob');
    await bob.until('*** you are banned\n');
    bob.socket.end('still here\n');
    expect(await ann.until('*** bob has disconnected\n')).not.toContain('[bob] still here');
  });
});

describe('/ban', () => {
  it('disconnects the user and refuses their name (and lookalikes) at login until /unban', async () => {
    const ann = await operator();
    const bob = await harness.join('bob');
    ann.say('/ban bob 1h spam');
    expect(await bob.rest()).toBe('*** you are banned\n');
    // bob connects from ann's own address, so the ban is of his name alone
    expect(await ann.until('*** bob was banned by ann: spam\n')).toMatch(/\*\*\* bob is banned until \S+ by ann: spam\n\*\*\* bob was banned by ann: spam\n$/);
    const again = await harness.visit();
    again.say('BOB');
    expect(await again.rest()).toBe('*** you are banned\n');
    expect(events).toContainEqual({ kind: 'disconnect', id: expect.any(String), reason: 'banned', error: undefined });
    ann.say('/bans');
    expect(lastLine(await ann.until('by ann: spam\n'))).toMatch(/^\*\*\* bob is banned until \S+ by ann: spam\n$/);
    ann.say('/unban bob');
    expect(await ann.until('no longer banned\n')).toContain('*** bob is no longer banned\n');
    await harness.join('bob');
  });

  it('bans a name nobody holds, for good, kept across a restart', async () => {
    const ann = await operator();
    ann.say('/ban dave');
    await ann.until('*** dave is banned for good by ann\n');
    await restart();
    const dave = await harness.visit();
    dave.say('dave');
    expect(await dave.rest()).toBe('*** you are banned\n');
    const annAgain = await withPassword('ann');
    annAgain.say('/bans');
    expect(await annAgain.until('by ann\n')).toContain('*** dave is banned for good by ann\n');
  });

  it('holds a banned name against /nick too', async () => {
    const ann = await operator();
    ann.say('/ban dave');
    await ann.until('*** dave is banned for good by ann\n');
    const bob = await harness.join('bob');
    bob.say('/nick Dave');
    bob.say('/who');
    expect(await bob.until('in #main')).toBe('*** username Dave is banned\n*** 2 in #main');
  });

  it('refuses every login from the address of a banned user until the ban expires', async () => {
    const ann = await operator();
    const bob = await fromOtherAddress();
    await bob.until('username: ');
    bob.say('bob');
    await bob.until('*** bob just joined the chatroom\n');
    const bannedAt = Date.now();
    ann.say('/ban bob 1s flooding');
    expect(lastLine(await ann.until('by ann: flooding\n'))).toMatch(/^\*\*\* bob \(127\.0\.0\.2\) is banned until \S+ by ann: flooding\n$/);
    expect(await bob.rest()).toBe('*** you are banned\n');
    const refused = await fromOtherAddress();
    await refused.until('username: ');
    refused.say('someone-else');
    expect(await refused.rest()).toBe('*** you are banned\n');
    await delay(1000 - (Date.now() - bannedAt) + 50); // the ban's own term: no socket event marks it
    const welcome = await fromOtherAddress();
    await welcome.until('username: ');
    welcome.say('bob');
    await welcome.until('*** bob just joined the chatroom\n');
  });

  it("lets an operator in from a banned address with their password: another operator's ban cannot lock them out", async () => {
    const ann = await operator();
    await register('bob');
    const bob = await withPassword('bob');
    ann.say('/op bob');
    await bob.until('*** ann made you an operator\n');
    bob.say('/quit');
    await bob.rest();
    const nat = await fromOtherAddress();
    await nat.until('username: ');
    nat.say('nat');
    await nat.until('*** nat just joined the chatroom\n');
    ann.say('/ban nat');
    expect(lastLine(await ann.until('for good by ann\n'))).toBe('*** nat (127.0.0.2) is banned for good by ann\n');
    const bobBehindNat = await fromOtherAddress();
    await bobBehindNat.until('username: ');
    bobBehindNat.say('bob');
    await bobBehindNat.until('Password: ');
    bobBehindNat.say(SECRET);
    expect(await bobBehindNat.until('*** you are an operator\n')).toBe('Welcome, bob\n*** bob just joined the chatroom\n*** you are an operator\n');
    const cat = await fromOtherAddress();
    await cat.until('username: ');
    cat.say('ann'); // an operator's name, but the wrong password
    await cat.until('Password: ');
    cat.say('not-the-one');
    expect(await cat.until('Password: ')).toBe('*** wrong password\nPassword: ');
  });

  it('lifts an address ban with /unban ADDRESS', async () => {
    const ann = await operator();
    const bob = await fromOtherAddress();
    await bob.until('username: ');
    bob.say('bob');
    await bob.until('chatroom\n');
    ann.say('/ban bob');
    await bob.rest();
    ann.say(`/unban ${OTHER_ADDRESS}`);
    expect(await ann.until(`${OTHER_ADDRESS} is no longer banned\n`)).toContain(`*** ${OTHER_ADDRESS} is no longer banned\n`);
    const cat = await fromOtherAddress();
    await cat.until('username: ');
    cat.say('cat');
    await cat.until('*** cat just joined the chatroom\n');
  });
});

describe('/mute', () => {
  it('lets a muted user’s lines reach only themselves until /unmute', async () => {
    const ann = await operator();
    const bob = await harness.join('bob');
    const cat = await harness.join('cat');
    ann.say('/mute bob');
    expect(lastLine(await ann.until('only them\n'))).toMatch(/^\*\*\* bob is muted until \S+: their lines reach only them\n$/);
    bob.say('buy my stuff');
    bob.say('/me waves');
    bob.say('/msg cat psst');
    expect(await bob.until('psst\n')).toBe('*** cat just joined the chatroom\n[bob] buy my stuff\n* bob waves\n[PM to cat] psst\n');
    ann.say('/unmute bob');
    expect(await ann.until('muted\n')).toContain('*** bob is no longer muted\n');
    bob.say('sorry');
    expect(await cat.until('[bob] sorry\n')).toBe('[bob] sorry\n');
    expect(moderation()).toEqual([
      { action: 'mute', by: 'ann', target: 'bob', detail: expect.stringMatching(/^until /) },
      { action: 'unmute', by: 'ann', target: 'bob', detail: '' },
    ]);
  });

  it('ends a mute when its time is up', async () => {
    const ann = await operator();
    const bob = await harness.join('bob');
    const cat = await harness.join('cat');
    const mutedAt = Date.now();
    ann.say('/mute bob 1s');
    await ann.until('their lines reach only them\n');
    bob.say('still muted');
    await bob.until('[bob] still muted\n');
    await delay(1000 - (Date.now() - mutedAt) + 50); // the mute's own term: no socket event marks it
    bob.say('heard again');
    expect(await cat.until('[bob] heard again\n')).toBe('[bob] heard again\n');
  });
  it('cannot be dodged by /nick, /quit and a reconnect, and does not land on whoever takes the name passed through', async () => {
    const ann = await operator();
    const cat = await harness.join('cat');
    const fay = await harness.join('fay');
    ann.say('/mute fay');
    await ann.until('their lines reach only them\n');
    fay.say('/nick fay3');
    await cat.until('fay3\n');
    fay.say('/quit');
    await fay.rest();
    const fayAgain = await harness.join('fay');
    fayAgain.say('still here');
    fayAgain.say('/topic buy my stuff');
    await fayAgain.until('*** fay set the topic: buy my stuff\n');
    const bystander = await harness.join('fay3');
    bystander.say('hello');
    const heard = await cat.until('[fay3] hello\n');
    expect(heard).not.toContain('still here');
    expect(heard).not.toContain('buy my stuff');
    cat.say('/topic');
    expect(await cat.until('\n')).toBe('*** #main has no topic\n');
  });
});

describe('/motd', () => {
  it('is shown after Welcome, to anyone who asks, and kept across a restart; - clears it', async () => {
    const ann = await operator();
    ann.say('/motd Be kind; no spam.');
    expect(await ann.until('\n')).toBe('*** message of the day set\n');
    const bob = await harness.visit();
    bob.say('bob');
    expect(await bob.until('chatroom\n')).toBe('Welcome, bob\n*** MOTD: Be kind; no spam.\n*** bob just joined the chatroom\n');
    bob.say('/motd');
    expect(await bob.until('\n')).toBe('*** MOTD: Be kind; no spam.\n');
    await restart();
    const cat = await harness.visit();
    cat.say('cat');
    expect(await cat.until('chatroom\n')).toBe('Welcome, cat\n*** MOTD: Be kind; no spam.\n*** cat just joined the chatroom\n');
    const annAgain = await withPassword('ann');
    annAgain.say('/motd -');
    expect(await annAgain.until('cleared\n')).toContain('*** message of the day cleared\n');
    const dan = await harness.visit();
    dan.say('dan');
    expect(await dan.until('chatroom\n')).toBe('Welcome, dan\n*** dan just joined the chatroom\n');
  });

  it('tells the operator in one line when it holds but could not be saved', async () => {
    const ann = await operator();
    await rm(join(dataDir, DATA_FILE_NAME));
    await mkdir(join(dataDir, DATA_FILE_NAME)); // where the next save appends: it fails
    ann.say('/motd not kept');
    expect(await ann.until(text.NOT_SAVED)).toBe(`*** message of the day set\n${text.NOT_SAVED}`);
    expect(events).toContainEqual({ kind: 'error', error: expect.objectContaining({ code: 'CHAT_STORE_UNWRITABLE' }) });
  });
});

describe('/stats', () => {
  it("shows an operator the server's figures, and refuses anyone else in one line", async () => {
    const ann = await operator();
    const bob = await harness.join('bob');
    bob.say('/stats');
    expect(await bob.until('\n')).toBe('*** only operators may use /stats\n');
    ann.say('/stats');
    const figures = await ann.until('*** rooms: 1\n');
    expect(figures).toMatch(/^(?:\*\*\* bob just joined the chatroom\n)?\*\*\* up for \d+s\n/);
    expect(figures).toContain('*** connections: 2 logged in, 0 before login, 0 in TLS handshake; 3 accepted, 0 refused (full), 0 refused (per address), 0 refused (connect rate)\n');
    expect(figures).toContain('*** disconnects: 0 eof, 0 error, 0 login timeout, 0 login limit, 0 wrong password, 0 send queue, 1 quit, 0 kick, 0 banned, 0 replaced, 0 shutdown\n');
    expect(figures).toMatch(/\*\*\* lines: \d+ received, \d+ delivered; dropped 0 overlong, 0 flooding\n/);
  });
});

describe('/unregister NAME by an operator', () => {
  it('releases a registered name other than their own, so anyone may take it without a password', async () => {
    const ann = await operator();
    await register('bob');
    await ann.until('*** bob has disconnected\n');
    ann.say('/unregister bob');
    expect(await ann.until('\n')).toBe('*** bob is no longer registered\n');
    const taker = await harness.visit();
    taker.say('bob');
    expect(await taker.until('\n')).toMatch(/^Welcome, bob/);
    expect(events).toContainEqual({ kind: 'account', change: { kind: 'released', name: 'bob', by: 'ann', from: '127.0.0.1' } });
  });

  it('is still the operator’s own /unregister PASSWORD when the word is not a registered name', async () => {
    const ann = await operator();
    ann.say(`/unregister ${SECRET}`);
    expect(await ann.until('\n')).toBe('*** ann is no longer registered\n');
  });

  it('refuses to release an operator’s name, and is a password for anyone else', async () => {
    await harness.stop();
    harness = await start({ ops: ['ann', 'root'] });
    await register('root');
    const ann = await operator();
    ann.say('/unregister root');
    expect(await ann.until('\n')).toBe("*** root is an operator's name: /deop it first\n");
    await register('bob');
    const cat = await harness.join('cat');
    cat.say(`/register ${SECRET}`);
    await cat.until('is registered to you; logging in with it will ask for your password\n');
    cat.say('/unregister bob');
    expect(await cat.until('\n')).toBe('*** wrong password\n');
    const bob = await harness.visit();
    bob.say('bob');
    await bob.until('Password: '); // still registered
  });
});
