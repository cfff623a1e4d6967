import { MAX_AWAY_LENGTH, MAX_TOPIC_LENGTH } from '../lib/chat/decide';
import { MAX_ROOMS } from '../lib/chat/state';
import type { RateLimits } from '../lib/chat/pace';
import type { ChatServerOptions } from '../lib/server';
import { type Client, type Harness, startHarness } from './support/client';

/** Flood limits out of the way: these specs type faster than a person. */
const UNLIMITED_RATE: RateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };

/** What an unknown command answers, to its sender alone: a marker that changes nothing. */
const PING = '/ping';
const PONG = '*** unknown command /ping (try /help)\n';

let harness: Harness | undefined;

async function start(options: Partial<ChatServerOptions> = {}): Promise<Harness> {
  harness = await startHarness({ rateLimits: UNLIMITED_RATE, ...options });
  return harness;
}

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
});

/** Reads exactly `expected` next: nothing comes before it. */
async function reads(client: Client, expected: string): Promise<void> {
  expect(await client.until(expected)).toBe(expected);
}

/** Proves `client` was sent nothing more: a ping's answer is the next thing it reads. */
async function heardNothing(...clients: readonly Client[]): Promise<void> {
  for (const client of clients) {
    client.say(PING);
    await reads(client, PONG);
  }
}

/** Logs `nick` in to the main room, and has each of `already` read its join line. */
async function joinSeenBy(nick: string, already: readonly Client[], on: Harness): Promise<Client> {
  const client = await on.join(nick);
  for (const other of already) await reads(other, `*** ${nick} just joined the chatroom\n`);
  return client;
}

/** ann, bob and cat in the main room, each having read every join. */
async function threeUsers(on: Harness): Promise<{ ann: Client; bob: Client; cat: Client }> {
  const ann = await on.join('ann');
  const bob = await joinSeenBy('bob', [ann], on);
  const cat = await joinSeenBy('cat', [ann, bob], on);
  return { ann, bob, cat };
}

/** `client` moves from the main room to `room`, seen leaving by `left`. */
async function moveTo(client: Client, nick: string, room: string, left: readonly Client[]): Promise<void> {
  client.say(`/join ${room}`);
  await reads(client, `*** ${nick} moved to #${room}\n*** ${nick} just joined #${room}\n`);
  for (const other of left) await reads(other, `*** ${nick} moved to #${room}\n`);
}

describe('/help', () => {
  it('lists every command with its arguments, to the sender alone', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    ann.say('/help');
    await reads(ann, [
      '*** /help                         list the commands',
      '*** /who                          who is in your room (also /names, /users)',
      '*** /nick NEW                     change your name',
      '*** /me ACTION                    say what you are doing: * you ACTION',
      '*** /msg NAME TEXT                a private message to NAME, in any room (also /w)',
      '*** /reply TEXT                   answer your last private message (also /r)',
      '*** /away [REASON]                mark yourself away',
      '*** /back                         you are no longer away',
      "*** /ignore [NAME]                hide NAME's lines from you; alone, list whom you ignore",
      "*** /unignore NAME                show NAME's lines again",
      '*** /join ROOM                    move to ROOM (made if new)',
      '*** /rooms                        the rooms and how many are in each',
      "*** /topic [TEXT]                 show or set your room's topic",
      '*** /whois NAME                   room, away, connected and idle time of NAME',
      '*** /uptime                       how long the server has been up',
      '*** /register PASSWORD            reserve your name: logging in with it asks for PASSWORD',
      '*** /password OLD NEW             change the password of your registered name',
      '*** /unregister PASSWORD          release your registered name (operators: NAME releases that one)',
      "*** /keys [add|remove FP]         the SSH keys that open your registered name; add ties this connection's",
      '*** /motd [TEXT]                  show the message of the day; operators set it (- clears it)',
      '*** /op NAME                      (operators) make NAME, logged in with its password, an operator',
      '*** /deop NAME                    (operators) NAME is no longer an operator',
      '*** /kick NAME [REASON]           (operators) disconnect NAME; their room is told why',
      '*** /ban NAME [DURATION] [REASON] (operators) disconnect and refuse NAME and their address (e.g. 2h; for good if not given)',
      '*** /unban NAME|ADDRESS           (operators) lift a ban',
      '*** /bans                         (operators) list the bans',
      "*** /mute NAME [DURATION]         (operators) NAME's lines reach only them (10m if not given)",
      '*** /unmute NAME                  (operators) lift a mute',
      "*** /stats                        (operators) the server's figures: connections, disconnects, lines, bytes",
      '*** /quit [MESSAGE]               leave the chat; your room sees the usual leave line, not MESSAGE',
      '',
    ].join('\n'));
    await heardNothing(bob, cat);
  });

  it('reads a command name in any case', async () => {
    const on = await start();
    const ann = await on.join('ann');
    ann.say('/WHO');
    await reads(ann, '*** 1 in #main: ann\n');
  });
});

describe('/who and its aliases', () => {
  it('names who is in the sender\'s room, in login order, with away reasons, to the sender alone', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    bob.say('/away lunch');
    await reads(bob, '*** you are away: lunch\n');
    for (const command of ['/who', '/names', '/users']) {
      ann.say(command);
      await reads(ann, '*** 3 in #main: ann, bob (away: lunch), cat\n');
    }
    await moveTo(cat, 'cat', 'games', [ann, bob]);
    cat.say('/who');
    await reads(cat, '*** 1 in #games: cat\n');
    ann.say('/who');
    await reads(ann, '*** 2 in #main: ann, bob (away: lunch)\n');
    await heardNothing(bob, cat);
  });
});

describe('/nick', () => {
  it('renames the sender for their room, the sender included, and not for other rooms', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    await moveTo(cat, 'cat', 'games', [ann, bob]);
    ann.say('/nick anna');
    for (const client of [ann, bob]) await reads(client, '*** ann is now known as anna\n');
    ann.say('hi');
    for (const client of [ann, bob]) await reads(client, '[anna] hi\n');
    await heardNothing(cat);
    const ann2 = await joinSeenBy('ann', [ann, bob], on); // the old name is free
    ann2.say('/who');
    await reads(ann2, '*** 3 in #main: anna, bob, ann\n');
  });

  it('lets exactly one of two users who take one name in the same turn have it, and everyone sees one rename', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    const nicks = new Map([[ann, 'ann'], [bob, 'bob']]);
    for (let round = 0; round < 10; round++) {
      const name = `same${round}`;
      for (const client of [ann, bob]) client.socket.write(`/nick ${name}\n${PING}\n`); // one turn
      const seen = await Promise.all([ann, bob].map((client) => client.until(PONG)));
      const losers = seen.filter((text) => text.includes(`*** username ${name} is taken\n`));
      expect(losers).toHaveLength(1);
      const winner = seen.findIndex((text) => !text.includes('is taken')) === 0 ? ann : bob;
      const renamed = `*** ${nicks.get(winner) ?? ''} is now known as ${name}\n`;
      for (const text of seen) expect(text.split(renamed)).toHaveLength(2);
      nicks.set(winner, name);
      cat.say(PING);
      expect(await cat.until(PONG)).toBe(`${renamed}${PONG}`);
    }
    cat.say('/who');
    await reads(cat, `*** 3 in #main: ${nicks.get(ann) ?? ''}, ${nicks.get(bob) ?? ''}, cat\n`);
  });

  it('admits exactly one of two visitors who give one name in the same turn', async () => {
    const on = await start();
    const ann = await on.join('ann');
    const [first, second] = await Promise.all([on.visit(), on.visit()]);
    if (first === undefined || second === undefined) throw new Error('two visitors');
    first.say('same');
    second.say('same');
    const answers = await Promise.all([first, second].map((client) => client.until('\n')));
    expect(answers.sort()).toEqual(['*** username same is taken\n', 'Welcome, same\n']);
    await reads(ann, '*** same just joined the chatroom\n');
    await heardNothing(ann);
  });
});

describe('/me', () => {
  it('shows an action to the sender\'s room, the sender included, and not to other rooms', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    await moveTo(cat, 'cat', 'games', [ann, bob]);
    ann.say('/me waves at everyone');
    for (const client of [ann, bob]) await reads(client, '* ann waves at everyone\n');
    await heardNothing(cat);
  });
});

describe('/msg, /w and /reply', () => {
  it('delivers a private message across rooms to its recipient alone, and echoes it to the sender', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    await moveTo(bob, 'bob', 'games', [ann, cat]);
    ann.say('/msg bob meet me at noon');
    await reads(ann, '[PM to bob] meet me at noon\n');
    await reads(bob, '[PM from ann] meet me at noon\n');
    bob.say('/r   see you there');
    await reads(bob, '[PM to ann] see you there\n');
    await reads(ann, '[PM from bob] see you there\n');
    cat.say('/w bob hi');
    await reads(cat, '[PM to bob] hi\n');
    await reads(bob, '[PM from cat] hi\n');
    bob.say('/reply who is this?');
    await reads(cat, '[PM from bob] who is this?\n');
    await reads(bob, '[PM to cat] who is this?\n');
    await heardNothing(ann, bob, cat);
  });

  it('tells the sender alone that the recipient is away, and why', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    bob.say('/away gone fishing');
    await reads(bob, '*** you are away: gone fishing\n');
    ann.say('/msg bob you there?');
    await reads(ann, '[PM to bob] you there?\n*** bob is away: gone fishing\n');
    await reads(bob, '[PM from ann] you there?\n');
    bob.say('/back');
    await reads(bob, '*** you are back\n');
    ann.say('/msg bob now?');
    await reads(ann, '[PM to bob] now?\n');
    await heardNothing(ann, cat);
  });

  it('answers /reply with nobody to answer, or a sender who has left', async () => {
    const on = await start();
    const { ann, bob } = await threeUsers(on);
    ann.say('/reply hello?');
    await reads(ann, '*** nobody has sent you a private message\n');
    bob.say('/msg ann bye');
    await reads(ann, '[PM from bob] bye\n');
    bob.say('/quit');
    await reads(ann, '*** bob has disconnected\n');
    ann.say('/r wait');
    await reads(ann, '*** whoever sent you your last private message has left\n');
  });
});

describe('/away and /back', () => {
  it('marks the sender away with a reason or none, for /who and /whois; nobody else is told', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    ann.say('/away');
    await reads(ann, '*** you are away\n');
    bob.say('/who');
    await reads(bob, '*** 3 in #main: ann (away), bob, cat\n');
    ann.say('/away in a meeting');
    await reads(ann, '*** you are away: in a meeting\n');
    bob.say('/whois ann');
    expect(await bob.until('\n')).toMatch(/^\*\*\* ann: in #main, away: in a meeting, connected for \d+s, idle for \d+s\n$/);
    ann.say('/back');
    await reads(ann, '*** you are back\n');
    bob.say('/who');
    await reads(bob, '*** 3 in #main: ann, bob, cat\n');
    await heardNothing(cat);
  });
});

describe('/ignore and /unignore', () => {
  it("hides the ignored user's chat, actions and private messages from the ignorer alone", async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    cat.say('/ignore ann');
    await reads(cat, '*** you are ignoring ann\n');
    ann.socket.write('hello all\n/me waves\n/msg cat psst\n');
    await reads(ann, '[ann] hello all\n* ann waves\n[PM to cat] psst\n');
    await reads(bob, '[ann] hello all\n* ann waves\n');
    bob.say('bob here');
    await reads(cat, '[bob] bob here\n'); // the first thing cat reads since it ignored ann
    await reads(ann, '[bob] bob here\n');
    await reads(bob, '[bob] bob here\n');
    cat.say('/ignore');
    await reads(cat, '*** you are ignoring ann\n');
    cat.say('/unignore ann');
    await reads(cat, '*** you are no longer ignoring ann\n');
    ann.say('back in view');
    for (const client of [ann, bob, cat]) await reads(client, '[ann] back in view\n');
    cat.say('/ignore');
    await reads(cat, '*** you are ignoring nobody\n');
    await heardNothing(ann, bob, cat);
  });

  it('still shows the ignored user\'s renames, joins and leaves, which are not their words', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    cat.say('/ignore ann');
    await reads(cat, '*** you are ignoring ann\n');
    ann.say('/nick anna');
    for (const client of [ann, bob, cat]) await reads(client, '*** ann is now known as anna\n');
    cat.say('/ignore');
    await reads(cat, '*** you are ignoring anna\n'); // it follows the user, not the name
    ann.say('/quit');
    for (const client of [bob, cat]) await reads(client, '*** anna has disconnected\n');
    cat.say('/ignore');
    await reads(cat, '*** you are ignoring nobody\n');
  });
});

describe('/join and /rooms', () => {
  it('keeps two rooms apart: chat in one is not heard in the other', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    await moveTo(bob, 'bob', 'games', [ann, cat]);
    bob.say('in games');
    await reads(bob, '[bob] in games\n');
    cat.say('/join #Games'); // one room, however it is typed
    await reads(cat, '*** cat moved to #games\n[bob] in games\n*** cat just joined #games\n');
    await reads(ann, '*** cat moved to #games\n');
    await reads(bob, '*** cat just joined #games\n');
    ann.say('in main');
    await reads(ann, '[ann] in main\n');
    ann.say('/rooms');
    await reads(ann, '*** rooms: #main (1), #games (2)\n');
    bob.say('/join main');
    await reads(bob, '*** bob moved to #main\n[ann] in main\n*** bob just joined the chatroom\n');
    await reads(cat, '*** bob moved to #main\n');
    await reads(ann, '*** bob just joined the chatroom\n');
    await heardNothing(ann, bob, cat);
  });

  it('forgets an empty room without a topic, its history with it', async () => {
    const on = await start();
    const { ann, bob } = await threeUsers(on);
    await moveTo(ann, 'ann', 'lonely', [bob]);
    ann.say('anyone?');
    await reads(ann, '[ann] anyone?\n');
    ann.say('/join main');
    await reads(ann, '*** ann moved to #main\n*** ann just joined the chatroom\n');
    bob.say('/rooms');
    await reads(bob, '*** ann just joined the chatroom\n*** rooms: #main (3)\n');
    await moveTo(bob, 'bob', 'lonely', [ann]); // no history: the room is new again
  });

  it(`makes space past MAX_ROOMS (${MAX_ROOMS}) rooms kept by topics by letting the oldest empty one go`, async () => {
    const on = await start();
    const { ann, bob } = await threeUsers(on);
    const made = Array.from({ length: MAX_ROOMS - 1 }, (_, i) => `r${i}`); // #main is one
    ann.socket.write(made.map((room) => `/join ${room}\n/topic mine\n`).join(''));
    await reads(bob, '*** ann moved to #r0\n');
    await ann.until(`*** ann just joined #r${MAX_ROOMS - 2}\n*** ann set the topic: mine\n`);
    bob.say('/join one-more');
    await reads(bob, '*** bob moved to #one-more\n*** bob just joined #one-more\n');
    bob.say('/join r0'); // the oldest empty room went, topic and all
    await reads(bob, '*** bob moved to #r0\n*** bob just joined #r0\n');
    await heardNothing(bob);
    bob.say('/join r1');
    await reads(bob, '*** bob moved to #r1\n*** bob just joined #r1\n*** topic of #r1: mine\n');
  });
});

describe('/topic', () => {
  it("sets the room's topic for the room, shows it on entering and on /topic", async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    ann.say('/topic');
    await reads(ann, '*** #main has no topic\n');
    ann.say('/topic   plans for friday ');
    for (const client of [ann, bob, cat]) await reads(client, '*** ann set the topic: plans for friday\n');
    bob.say('/topic');
    await reads(bob, '*** topic of #main: plans for friday\n');
    await moveTo(cat, 'cat', 'games', [ann, bob]);
    cat.say('/join main');
    await reads(cat, '*** cat moved to #main\n*** cat just joined the chatroom\n*** topic of #main: plans for friday\n');
    const dan = await on.visit();
    dan.say('dan');
    await reads(dan, 'Welcome, dan\n*** dan just joined the chatroom\n*** topic of #main: plans for friday\n');
  });

  it('keeps a room with a topic, and its history, when everyone has left it', async () => {
    const on = await start();
    const { ann, bob } = await threeUsers(on);
    await moveTo(ann, 'ann', 'den', [bob]);
    ann.socket.write('/topic our den\nsecret plans\n');
    await reads(ann, '*** ann set the topic: our den\n[ann] secret plans\n');
    ann.say('/join main');
    await reads(ann, '*** ann moved to #main\n*** ann just joined the chatroom\n');
    bob.say('/join den');
    await reads(bob, '*** ann just joined the chatroom\n*** bob moved to #den\n[ann] secret plans\n*** bob just joined #den\n*** topic of #den: our den\n');
  });
});

describe('/whois', () => {
  it("shows a user's room, away reason, connected and idle time, whatever room they are in", async () => {
    const on = await start();
    const { ann, bob } = await threeUsers(on);
    await moveTo(bob, 'bob', 'games', [ann]);
    ann.say('/whois BOB');
    expect(await ann.until('\n')).toMatch(/^\*\*\* bob: in #games, connected for \d+s, idle for \d+s\n$/);
  });
});

describe('/quit', () => {
  it('says goodbye to the sender, closes the connection, and the room sees one leave line', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    await moveTo(cat, 'cat', 'games', [ann, bob]);
    bob.say('/quit see you all');
    expect(await bob.rest()).toBe('*** goodbye\n');
    await reads(ann, '*** bob has disconnected\n');
    await heardNothing(ann, cat);
    await joinSeenBy('bob', [ann], on); // the name is free
  });

  it('carries out the lines sent before it, and none after', async () => {
    const on = await start();
    const { ann, bob } = await threeUsers(on);
    bob.socket.write('one\ntwo\n/quit\nthree\n');
    expect(await bob.rest()).toBe('[bob] one\n[bob] two\n*** goodbye\n');
    await reads(ann, '[bob] one\n[bob] two\n*** bob has disconnected\n');
    await heardNothing(ann);
  });
});

describe('chat lines', () => {
  it('sends "//text" as the chat line "/text"', async () => {
    const on = await start();
    const { ann, bob } = await threeUsers(on);
    ann.say('//shrug');
    for (const client of [ann, bob]) await reads(client, '[ann] /shrug\n');
  });
});

describe('history', () => {
  it('gives a newcomer the last lines and actions of the room before its join line, but no private message', async () => {
    const on = await start();
    const ann = await on.join('ann');
    const bob = await joinSeenBy('bob', [ann], on);
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    ann.socket.write([...lines, '/me waves', '/msg bob secret', ''].join('\n'));
    await reads(bob, `${lines.map((line) => `[ann] ${line}\n`).join('')}* ann waves\n[PM from ann] secret\n`);
    const cat = await on.visit();
    cat.say('cat');
    const kept = lines.slice(1).map((line) => `[ann] ${line}\n`).join('');
    await reads(cat, `Welcome, cat\n${kept}* ann waves\n*** cat just joined the chatroom\n`);
  });

  it('gives a user who joins a room its history, less the lines of those they ignore', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    await moveTo(ann, 'ann', 'games', [bob, cat]);
    await moveTo(bob, 'bob', 'games', [cat]);
    await reads(ann, '*** bob just joined #games\n');
    ann.socket.write('gg\n/me bows\n');
    bob.say('well played');
    await reads(bob, '[ann] gg\n* ann bows\n[bob] well played\n');
    cat.say('/ignore ann');
    await reads(cat, '*** you are ignoring ann\n');
    cat.say('/join games');
    await reads(cat, '*** cat moved to #games\n[bob] well played\n*** cat just joined #games\n');
  });

  it('keeps no history when historyLines is 0', async () => {
    const on = await start({ historyLines: 0 });
    const ann = await on.join('ann');
    ann.say('nobody hears this later');
    await reads(ann, '[ann] nobody hears this later\n');
    const bob = await on.visit();
    bob.say('bob');
    await reads(bob, 'Welcome, bob\n*** bob just joined the chatroom\n');
  });

  it('replays no more than historyBytes of all rooms, the least recently used room losing its oldest lines first', async () => {
    const on = await start({ historyBytes: 30 }); // three lines of a 3-letter name and 7 characters
    const ann = await on.join('ann');
    const cat = await joinSeenBy('cat', [ann], on);
    cat.say('/join #side');
    await cat.until('*** cat just joined #side\n');
    for (const [user, name, text] of [[ann, 'ann', 'main-01'], [cat, 'cat', 'side-01'], [ann, 'ann', 'main-02'], [cat, 'cat', 'side-02']] as const) {
      user.say(text);
      await user.until(`[${name}] ${text}\n`);
    }
    const bob = await on.visit();
    bob.say('bob');
    await reads(bob, 'Welcome, bob\n[ann] main-02\n*** bob just joined the chatroom\n');
    bob.say('/join #side');
    await bob.until('[cat] side-01\n[cat] side-02\n');
  });
});

describe('pacing', () => {
  it('paces commands like chat lines: past the queue they are dropped with one "slow down"', async () => {
    const on = await start({ rateLimits: { linesPerSecond: 20, burstLines: 1, maxQueuedLines: 1 } });
    const ann = await on.join('ann');
    const bob = await joinSeenBy('bob', [ann], on);
    bob.socket.write('/who\n/who\n/who\n/who\n');
    await reads(bob, '*** 2 in #main: ann, bob\n*** slow down\n*** 2 in #main: ann, bob\n');
    await heardNothing(ann);
  });
});

describe('bad arguments', () => {
  it('get one line to the sender alone, and cost nobody else a message', async () => {
    const on = await start();
    const { ann, bob, cat } = await threeUsers(on);
    await moveTo(cat, 'cat', 'games', [ann, bob]);
    const refusals: [string, string][] = [
      ['/nick', 'usage: /nick NEW'],
      ['/nick ann', 'you are already ann'],
      ['/nick BOB', 'username bob is taken'],
      ['/nick two words', 'username must not contain spaces'],
      ['/nick ***', 'username must not start with * (server notices do)'],
      ['/me', 'usage: /me ACTION'],
      ['/me    ', 'usage: /me ACTION'],
      ['/msg', 'usage: /msg NAME TEXT'],
      ['/msg bob', 'usage: /msg NAME TEXT'],
      ['/msg zed hi', 'no such user: zed'],
      ['/w ann hi', 'you cannot send a private message to yourself'],
      ['/r', 'usage: /reply TEXT'],
      ['/r hi', 'nobody has sent you a private message'],
      ['/back', 'you are not away'],
      [`/away ${'a'.repeat(MAX_AWAY_LENGTH + 1)}`, `away reason too long (max ${MAX_AWAY_LENGTH} characters)`],
      ['/ignore zed', 'no such user: zed'],
      ['/ignore ann', 'you cannot ignore yourself'],
      ['/unignore', 'usage: /unignore NAME'],
      ['/unignore bob', 'you are not ignoring bob'],
      ['/join', 'usage: /join ROOM'],
      ['/join #main', 'you are already in #main'],
      ['/join no spaces', 'room names are 1 to 32 of a-z 0-9 - _, with or without a leading #'],
      [`/join ${'r'.repeat(33)}`, 'room names are 1 to 32 of a-z 0-9 - _, with or without a leading #'],
      [`/topic ${'t'.repeat(MAX_TOPIC_LENGTH + 1)}`, `topic too long (max ${MAX_TOPIC_LENGTH} characters)`],
      ['/whois', 'usage: /whois NAME'],
      ['/whois zed', 'no such user: zed'],
      ['/', 'unknown command / (try /help)'],
      ['/frobnicate now', 'unknown command /frobnicate (try /help)'],
    ];
    ann.socket.write(refusals.map(([command]) => `${command}\n`).join(''));
    await reads(ann, refusals.map(([, reply]) => `*** ${reply}\n`).join(''));
    await heardNothing(ann, bob, cat);
  });
});
