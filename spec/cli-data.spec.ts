import { chmod, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { usage } from '../lib/cli/help';
import { DEFAULT_LOG_OPTIONS } from '../lib/cli/log';
import { parseCommand } from '../lib/cli/settings';
import { type Client, connectClient } from './support/client';
import { killAll, listeningPort, start } from './support/chatd';

let dir: string;
const clients: Client[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatd-cli-data-'));
});

afterEach(async () => {
  for (const { socket } of clients.splice(0)) socket.destroy();
  await killAll();
  await rm(dir, { recursive: true, force: true });
});

async function client(port: number): Promise<Client> {
  const opened = await connectClient(port);
  clients.push(opened);
  return opened;
}

describe('bin/chatd and its data', () => {
  it('keeps a registration through a crash: killed at once, it starts again with it', async () => {
    const first = start(['--host', '127.0.0.1', '--port', '0', '--data-dir', dir]);
    const ann = await client(await listeningPort(first));
    ann.say('ann');
    await ann.until('chatroom\n');
    ann.say('/register open-sesame');
    await ann.until('registered to you');
    await first.waitFor(/register ann from 127\.0\.0\.1\n/);
    first.child.kill('SIGKILL');
    await first.exited;
    const second = start(['--host', '127.0.0.1', '--port', '0'], { CHATD_DATA_DIR: dir });
    const again = await client(await listeningPort(second));
    again.say('ann');
    await again.until('Password: ');
    again.say('open-sesame');
    await again.until('*** ann just joined the chatroom\n');
    expect(second.log()).not.toContain('open-sesame');
  });

  it('keeps every file of the data folder 0600 after a save, whatever mode a leftover temporary file had', async () => {
    await writeFile(join(dir, 'chatd.json'), '{"accounts": {}}', { mode: 0o644 });
    for (const leftover of ['chatd.json.tmp', 'chatd.jsonl.tmp']) await writeFile(join(dir, leftover), '{"accou', { mode: 0o644 });
    await chmod(join(dir, 'chatd.json'), 0o644); // whatever the umask made of it
    const run = start(['--host', '127.0.0.1', '--port', '0', '--data-dir', dir]);
    const ann = await client(await listeningPort(run));
    ann.say('ann');
    await ann.until('chatroom\n');
    ann.say('/register open-sesame');
    await ann.until('registered to you');
    await run.waitFor(/register ann from 127\.0\.0\.1\n/);
    const files = (await readdir(dir)).filter((name) => !name.endsWith('.tmp')); // a leftover no longer used is harmless
    const modes = await Promise.all(files.map(async (name) => [name, ((await stat(join(dir, name))).mode & 0o777).toString(8)]));
    expect(modes.filter(([, mode]) => mode !== '600')).toEqual([]);
  });

  it('exits 1 with one clear line when the data file is corrupt', async () => {
    await writeFile(join(dir, 'chatd.json'), 'not json\n');
    const { code, stderr } = await start(['--port', '0', '--data-dir', dir]).exited;
    expect(code).toBe(1);
    expect(stderr).toBe(`chatd: ${dir}/chatd.json is corrupt: Unexpected token 'o', "not json\\n" is not valid JSON\n`);
  });

  it('exits 1 with one clear line when the data folder cannot be written', async () => {
    await writeFile(join(dir, 'a-file'), '');
    const { code, stderr } = await start(['--port', '0', '--data-dir', join(dir, 'a-file', 'data')]).exited;
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^chatd: cannot write the data folder ${dir}/a-file/data: .+\\n$`));
  });
});

describe('parseCommand for data and passwords', () => {
  it('reads --data-dir and the --require-tls-for-passwords switch, or their variables', () => {
    expect(parseCommand(['--data-dir', '/var/lib/chatd', '--require-tls-for-passwords'], {})).toEqual({
      kind: 'serve', options: { dataDir: '/var/lib/chatd', requireTlsForPasswords: true }, log: DEFAULT_LOG_OPTIONS,
    });
    expect(parseCommand([], { CHATD_DATA_DIR: 'd', CHATD_REQUIRE_TLS_FOR_PASSWORDS: '0' })).toEqual({
      kind: 'serve', options: { dataDir: 'd', requireTlsForPasswords: false }, log: DEFAULT_LOG_OPTIONS,
    });
    expect(() => parseCommand([], { CHATD_REQUIRE_TLS_FOR_PASSWORDS: 'maybe' })).toThrow("its variable is 1, true, 0 or false, not 'maybe'");
    expect(usage()).toMatch(/--require-tls-for-passwords +refuse passwords/);
    expect(usage().replace(/\n {2,}(?=[^ -])/g, ' ')).toMatch(/--data-dir <dir> .*default \.\/chatd-data\)/);
  });
});
