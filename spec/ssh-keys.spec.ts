import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import * as text from '../lib/chat/texts';
import { type Harness, startHarness } from './support/client';
import { closeSshClients, SPEC_HOST_KEY, type SshUser, sshUser } from './support/ssh';

/** #21's keys over a real SSH client: a key tied to a registered name opens it without the password. */

const SECRET = 'password123';
const KEY_A = utils.generateKeyPairSync('ed25519').private;
const KEY_B = utils.generateKeyPairSync('ed25519').private;

let harness: Harness | undefined;
let dataDir: string;

beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'chatd-ssh-keys-'));
});

afterEach(async () => {
  closeSshClients();
  await harness?.stop();
  harness = undefined;
  await rm(dataDir, { recursive: true, force: true });
});

async function start(): Promise<{ chat: Harness; port: number }> {
  harness = await startHarness({ ssh: { port: 0, hostKey: SPEC_HOST_KEY }, dataDir, ops: ['ann'] });
  const address = harness.server.sshAddress();
  if (address === null) throw new Error('no SSH listener');
  return { chat: harness, port: address.port };
}

/** `ann` over SSH with `key`. */
const annWith = (port: number, key: string): Promise<SshUser> => sshUser(port, 'ann', false, { privateKey: key, tryKeyboard: false });

/** The fingerprint in the first line of `read` that matches `pattern` (whose group 1 is one). */
function fingerprintIn(read: string, pattern: RegExp): string {
  const found = pattern.exec(read)?.[1];
  if (found === undefined) throw new Error(`no fingerprint in ${JSON.stringify(read)}`);
  return found;
}

async function quit(user: SshUser): Promise<void> {
  user.channel.write('/quit\n');
  await user.closed();
}

describe('SSH keys tied to registered names', () => {
  it('opens a name registered over SSH with its key, as an operator, and asks another key for the password', async () => {
    const { chat, port } = await start();
    const registering = await annWith(port, KEY_A);
    await registering.until(text.joined('ann'));
    registering.channel.write(`/register ${SECRET}\n`);
    const keyA = fingerprintIn(await registering.until('over SSH without the password\n'), /your key (SHA256:\S+) opens ann/u);
    await quit(registering);

    const ann = await annWith(port, KEY_A);
    await ann.until(text.YOU_ARE_AN_OPERATOR);
    expect(ann.read()).toContain(text.keyOpened(keyA));
    expect(ann.read()).not.toContain(text.PASSWORD_PROMPT);
    ann.channel.write('/whois ann\n');
    await ann.until(`logged in with key ${keyA}\n`);
    const bob = await chat.join('bob');
    bob.say('/whois ann');
    const whois = await bob.until('idle for');
    expect(await bob.until('\n')).not.toContain('SHA256:');
    expect(whois).not.toContain('SHA256:');
    await quit(ann);

    const other = await annWith(port, KEY_B);
    await other.until(text.PASSWORD_PROMPT);
    other.channel.write(`${SECRET}\n`);
    await other.until(text.YOU_ARE_AN_OPERATOR);
  });

  it('adds and removes keys with /keys, kept across a restart', async () => {
    const { port } = await start();
    const registering = await annWith(port, KEY_A);
    await registering.until(text.joined('ann'));
    registering.channel.write(`/register ${SECRET}\n`);
    const keyA = fingerprintIn(await registering.until('over SSH without the password\n'), /your key (SHA256:\S+) opens ann/u);
    await quit(registering);

    const withB = await annWith(port, KEY_B);
    await withB.until(text.PASSWORD_PROMPT);
    withB.channel.write(`${SECRET}\n`);
    await withB.until(text.joined('ann'));
    withB.channel.write('/keys add\n');
    const keyB = fingerprintIn(await withB.until(' now opens ann\n'), /your key (SHA256:\S+) now opens ann/u);
    withB.channel.write('/keys\n');
    await withB.until(`*** key ${keyA}\n*** key ${keyB}\n`);
    withB.channel.write(`/keys remove ${keyA}\n`);
    await withB.until(`*** key ${keyA} no longer opens ann\n`);
    await quit(withB);

    await harness?.stop();
    const { port: again } = await start();
    const byB = await annWith(again, KEY_B);
    await byB.until(text.keyOpened(keyB));
    await quit(byB);
    const byA = await annWith(again, KEY_A);
    await byA.until(text.PASSWORD_PROMPT);
  });
});
