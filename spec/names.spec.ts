import type { RateLimits } from '../lib/chat/pace';
import { type Client, type Harness, startHarness } from './support/client';

/** Flood limits out of the way: these specs type faster than a person. */
const UNLIMITED_RATE: RateLimits = { linesPerSecond: 1e6, burstLines: 1e6, maxQueuedLines: 1e6 };
const PROMPT = 'Please enter your username: ';

let harness: Harness;

beforeEach(async () => {
  harness = await startHarness({ rateLimits: UNLIMITED_RATE });
});

afterEach(async () => {
  await harness.stop();
});

/** Reads exactly `expected` next: nothing comes before it. */
async function reads(client: Client, expected: string): Promise<void> {
  expect(await client.until(expected)).toBe(expected);
}

/** Proves `client` was sent nothing more: a ping's answer is the next thing it reads. */
async function heardNothing(client: Client): Promise<void> {
  client.say('/ping');
  await reads(client, '*** unknown command /ping (try /help)\n');
}

const hex = (name: string): string => [...name].map((char) => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase()}`).join(' ');

/** The invisible characters of #11, each before and after `bob`. */
const INVISIBLES = ['\u202e', '\u200b', '\u200c', '\u200d', '\u200e', '\u200f', '\u2060', '\u2066', '\u2067', '\u2068', '\u2069'];
const HIDDEN_BOBS = INVISIBLES.flatMap((char) => [`${char}bob`, `bob${char}`]);

/** Names refused whoever is logged in, with the reason the refusal gives. */
const REFUSED: [string, string][] = [
  ...HIDDEN_BOBS.map((name): [string, string] => [name, 'username must not contain invisible characters']),
  ['\u0301\u0302', 'username must not start with a combining mark'],
  ['***', 'username must not start with * (server notices do)'],
  ['[alice]', 'username must not contain [ or ] (chat lines put names in them)'],
  ['/who', 'username may only contain letters, digits and _ - .'],
];

/** Lookalikes of `bob`, refused as bob's name while bob is logged in. */
const LOOKALIKES = ['b\u043eb', '\uff42\uff4f\uff42', 'BOB', 'Bob'];

/** Names in other scripts than Latin, or with accents, that people keep. */
const WELCOMED = ['José', 'Дмитрий', '李雷', 'やまだ'];

describe('usernames at login', () => {
  it.each(LOOKALIKES.map((name) => [hex(name), name]))('refuses %s as taken while bob is logged in', async (_, name) => {
    const bob = await harness.join('bob');
    const visitor = await harness.visit();
    visitor.say(name);
    await reads(visitor, `*** username bob is taken\n${PROMPT}`);
    await heardNothing(bob);
  });

  it.each(REFUSED.map(([name, reason]) => [hex(name), name, reason]))('refuses %s with its reason, and asks again', async (_, name, reason) => {
    const bob = await harness.join('bob');
    const visitor = await harness.visit();
    visitor.say(name);
    await reads(visitor, `*** ${reason}\n${PROMPT}`);
    visitor.say('robert');
    await reads(visitor, 'Welcome, robert\n*** robert just joined the chatroom\n');
    await reads(bob, '*** robert just joined the chatroom\n');
  });

  it('runs no command given as a username', async () => {
    const bob = await harness.join('bob');
    const visitor = await harness.visit();
    visitor.socket.write('/who\n/quit\n/nick\n');
    const refused = `*** username may only contain letters, digits and _ - .\n${PROMPT}`;
    await reads(visitor, refused.repeat(3));
    await heardNothing(bob);
  });

  it('welcomes names in any one script, and relays their lines', async () => {
    const bob = await harness.join('bob');
    let history = '';
    for (const name of WELCOMED) {
      const user = await harness.visit();
      user.say(name);
      await reads(user, `Welcome, ${name}\n${history}*** ${name} just joined the chatroom\n`);
      await reads(bob, `*** ${name} just joined the chatroom\n`);
      user.say('hello');
      await reads(user, `[${name}] hello\n`);
      await reads(bob, `[${name}] hello\n`);
      history += `[${name}] hello\n`;
    }
    bob.say('/who');
    await reads(bob, `*** 5 in #main: bob, ${WELCOMED.join(', ')}\n`);
  });
});

describe('usernames through /nick', () => {
  it.each(LOOKALIKES.filter((name) => name.toLowerCase() !== 'bob').map((name) => [hex(name), name]))(
    'refuses %s as taken while bob is logged in',
    async (_, name) => {
      const bob = await harness.join('bob');
      const ann = await harness.join('ann');
      await reads(bob, '*** ann just joined the chatroom\n');
      ann.say(`/nick ${name}`);
      await reads(ann, '*** username bob is taken\n');
      await heardNothing(bob);
    },
  );

  it.each(REFUSED.map(([name, reason]) => [hex(name), name, reason]))('refuses %s with its reason', async (_, name, reason) => {
    const bob = await harness.join('bob');
    const ann = await harness.join('ann');
    await reads(bob, '*** ann just joined the chatroom\n');
    ann.say(`/nick ${name}`);
    await reads(ann, `*** ${reason}\n`);
    await heardNothing(bob);
  });

  it('refuses control characters and escape sequences rather than renaming to what is left', async () => {
    const bob = await harness.join('bob');
    const ann = await harness.join('ann');
    await reads(bob, '*** ann just joined the chatroom\n');
    ann.socket.write('/nick red\x1b[31mbob\n/nick a\x07b\n/nick a\u2028b\n');
    await reads(ann, [
      '*** username must not contain control characters',
      '*** username must not contain control characters',
      '*** username must not contain spaces',
      '',
    ].join('\n'));
    await heardNothing(bob);
  });

  it('renames to names in any one script', async () => {
    const bob = await harness.join('bob');
    const ann = await harness.join('ann');
    await reads(bob, '*** ann just joined the chatroom\n');
    let nick = 'ann';
    for (const name of WELCOMED) {
      ann.say(`/nick ${name}`);
      for (const client of [ann, bob]) await reads(client, `*** ${nick} is now known as ${name}\n`);
      nick = name;
    }
  });
});

describe('forging characters in what users send', () => {
  // Each case: what is sent, what everyone reads of it.
  const FORGERIES: [string, string, string][] = [
    ['U+2028 and U+2029 as a space', 'hi\u2028*** root is now known as admin\u2029ok', 'hi *** root is now known as admin ok'],
    ['bidi embeddings and overrides removed', '\u202aa\u202bb\u202cc\u202dd\u202ee', 'abcde'],
    ['bidi isolates removed', '\u2066a\u2067b\u2068c\u2069d', 'abcd'],
    ['the zero-width joiner kept', 'family: \u{1f468}\u200d\u{1f469}\u200d\u{1f467}', 'family: \u{1f468}\u200d\u{1f469}\u200d\u{1f467}'],
  ];

  it.each(FORGERIES)('chat text: %s', async (_, sent, shown) => {
    const bob = await harness.join('bob');
    const ann = await harness.join('ann');
    await reads(bob, '*** ann just joined the chatroom\n');
    ann.say(sent);
    for (const client of [ann, bob]) await reads(client, `[ann] ${shown}\n`);
  });

  it.each(FORGERIES)('command arguments (/me, /topic, /msg, /away): %s', async (_, sent, shown) => {
    const bob = await harness.join('bob');
    const ann = await harness.join('ann');
    await reads(bob, '*** ann just joined the chatroom\n');
    ann.socket.write(`/me ${sent}\n/topic ${sent}\n/msg bob ${sent}\n/away ${sent}\n`);
    await reads(bob, `* ann ${shown}\n*** ann set the topic: ${shown}\n[PM from ann] ${shown}\n`);
    await reads(ann, `* ann ${shown}\n*** ann set the topic: ${shown}\n[PM to bob] ${shown}\n*** you are away: ${shown}\n`);
    bob.say('/who');
    await reads(bob, `*** 2 in #main: bob, ann (away: ${shown})\n`);
  });

  it('joins the room a room name names once its forging characters are removed', async () => {
    const bob = await harness.join('bob');
    const ann = await harness.join('ann');
    await reads(bob, '*** ann just joined the chatroom\n');
    ann.socket.write('/join \u202egam\u2066es\n/join ga\u2028mes\n');
    await reads(ann, [
      '*** ann moved to #games',
      '*** ann just joined #games',
      '*** room names are 1 to 32 of a-z 0-9 - _, with or without a leading #',
      '',
    ].join('\n'));
    await reads(bob, '*** ann moved to #games\n');
    await heardNothing(bob);
  });
});
