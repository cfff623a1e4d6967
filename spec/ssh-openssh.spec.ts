import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Harness, startHarness } from './support/client';
import { SPEC_HOST_KEY } from './support/ssh';
import { programOutput } from './support/program-output';

const haveSsh = ['ssh', 'ssh-keygen', 'script'].every((tool) => spawnSync('which', [tool]).status === 0);

/** Options that keep the client from asking anything or touching the user's files and agent. */
const QUIET = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR', '-F', '/dev/null'];


const withSsh = haveSsh ? describe : process.env['CI'] === undefined ? describe.skip : describe;
if (!haveSsh && process.env['CI'] === undefined) process.stderr.write('\nskipped the real OpenSSH client spec: ssh or script is not installed (apt-get install openssh-client)\n');

withSsh('the real OpenSSH client', () => {
  let harness: Harness | undefined;
  let child: ChildProcessWithoutNullStreams | undefined;
  let dir: string | undefined;
  const env = { PATH: process.env['PATH'], HOME: '/nonexistent' }; // no agent, no ~/.ssh

  beforeEach(async () => {
    if (!haveSsh) throw new Error('ssh or script is missing, and CI is set (apt-get install openssh-client)');
    harness = await startHarness({ ssh: { port: 0, hostKey: SPEC_HOST_KEY } });
    dir = await mkdtemp(join(tmpdir(), 'chatd-ssh-'));
  });
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    child = undefined;
    await harness?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  const sshPort = () => String(harness?.server.sshAddress()?.port);

  it('logs in with a key, chats with an nc user and leaves at the end of its input (ssh -T)', async () => {
    const key = join(dir ?? '', 'id');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status).toBe(0);
    child = spawn('ssh', [...QUIET, '-T', '-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-i', key, '-p', sshPort(), 'alice@127.0.0.1'], { env });
    const until = programOutput(child, 'ssh');
    await until('*** alice just joined the chatroom\n');
    const bob = await harness?.join('bob');
    await until('*** bob just joined the chatroom\n');
    bob?.say('hi alice');
    await until('[bob] hi alice\n');
    child.stdin.write('hello bob\n');
    await bob?.until('[alice] hello bob\n');
    child.stdin.end();
    await bob?.until('*** alice has disconnected\n');
    const [code] = await once(child, 'exit');
    expect(code).toBe(0);
  });

  it('logs in without a key on a terminal, edits the line, and leaves on Ctrl-D', async () => {
    const ssh = ['ssh', ...QUIET, '-tt', '-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=keyboard-interactive', '-p', sshPort(), 'carol@127.0.0.1'];
    child = spawn('script', ['-qfec', ssh.join(' '), '/dev/null'], { env });
    const until = programOutput(child, 'ssh');
    await until('*** carol just joined the chatroom\r\n');
    const bob = await harness?.join('bob');
    child.stdin.write('hi bob');
    await until('[carol] hi bob');
    bob?.say('hello carol');
    await until('[bob] hello carol\r\n');
    child.stdin.write('!\r');
    await bob?.until('[carol] hi bob!\n');
    child.stdin.write('\x04');
    await bob?.until('*** carol has disconnected\n');
    await once(child, 'exit');
  });
});
