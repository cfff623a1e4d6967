import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { utils } from 'ssh2';
import { parseCommand } from '../lib/cli/settings';
import { HOST_KEY_FILE } from '../lib/edge/ssh/host-key';
import { killAll, start } from './support/chatd';
import { closeSshClients, sshUser } from './support/ssh';

let dir = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatd-cli-ssh-'));
});
afterEach(async () => {
  closeSshClients();
  await killAll();
  await rm(dir, { recursive: true, force: true });
});

/** The port a `--host 127.0.0.1` run logs that it listens for SSH on. */
async function sshPortOf(run: ReturnType<typeof start>): Promise<number> {
  const [, port] = await run.waitFor(/listening for SSH on 127\.0\.0\.1:(\d+)\n/);
  return Number(port);
}

const haveKeygen = spawnSync('which', ['ssh-keygen']).status === 0;

describe('bin/chatd with SSH', () => {
  it('makes an ed25519 host key in the data folder on first start, readable by its owner alone, logs its fingerprint and keeps it', async () => {
    const run = start(['--host', '127.0.0.1', '--port', 'off', '--ssh-port', '0', '--data-dir', dir]);
    const [, fingerprint] = await run.waitFor(/SSH host key (SHA256:\S+) \(made in .*\)\n/);
    const port = await sshPortOf(run);
    const file = join(dir, HOST_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    if (haveKeygen) expect(spawnSync('ssh-keygen', ['-lf', file], { encoding: 'utf8' }).stdout).toContain(fingerprint);
    const ann = await sshUser(port, 'ann');
    await ann.until('*** ann just joined the chatroom\n');
    await killAll();
    const again = start(['--host', '127.0.0.1', '--port', 'off', '--ssh-port', '0', '--data-dir', dir]);
    await again.waitFor(new RegExp(`SSH host key ${fingerprint?.replace(/[+/]/g, '\\$&')} \\(from `));
  });

  it('reloads the host key file on SIGHUP, and keeps the one in use when the file is bad', async () => {
    const file = join(dir, 'host_key');
    const run = start(['--host', '127.0.0.1', '--port', '0', '--ssh-port', '0', '--data-dir', dir, '--ssh-host-key', file]);
    await run.exited.then(({ stderr }) => expect(stderr).toContain('cannot read SSH host key'));
    await writeFile(file, utils.generateKeyPairSync('ed25519').private);
    const served = start(['--host', '127.0.0.1', '--port', '0', '--ssh-port', '0', '--data-dir', dir, '--ssh-host-key', file]);
    await sshPortOf(served);
    await writeFile(file, utils.generateKeyPairSync('ed25519').private);
    served.child.kill('SIGHUP');
    await served.waitFor(/SIGHUP: reloaded the SSH host key SHA256:/);
    await writeFile(file, 'not a key');
    served.child.kill('SIGHUP');
    await served.waitFor(/SIGHUP: kept the SSH host key in use: bad SSH host key/);
  });
});

describe('parseCommand with SSH', () => {
  it('takes --ssh-port and --ssh-host-key, and serves SSH alone with --port off', () => {
    expect(parseCommand(['--ssh-port', '2022', '--port', 'off'], { CHATD_SSH_HOST_KEY: 'key' })).toMatchObject({
      options: { port: 'off', ssh: { port: 2022, hostKeyFile: 'key' } },
    });
  });

  it('refuses a cluster without a host key, a key without a port, and a port another door has', () => {
    expect(() => parseCommand(['--ssh-port', '2022', '--redis', 'redis://x'], {})).toThrow('--ssh-port with --redis needs --ssh-host-key');
    expect(() => parseCommand(['--ssh-host-key', 'k'], {})).toThrow('--ssh-host-key needs --ssh-port');
    expect(() => parseCommand(['--ssh-port', '6677'], {})).toThrow('--port and --ssh-port are the same port, 6677');
  });
});
