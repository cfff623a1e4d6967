import { once } from 'node:events';
import { connectClient, visitorsOf, type Visitors, writeUnterminated } from './support/client';
import { killAll, listeningPort, start } from './support/chatd';

let port: number;
let visitors: Visitors;

afterEach(async () => {
  visitors.closeAll();
  await killAll();
});

/** Runs `task` on 0..count-1, at most `width` at once. */
async function inBatches(count: number, width: number, task: (index: number) => Promise<void>): Promise<void> {
  for (let first = 0; first < count; first += width) {
    await Promise.all(Array.from({ length: Math.min(width, count - first) }, (_, i) => task(first + i)));
  }
}

/** One connection of the burst: a third leave at the prompt, a third log in and end, a third log in and reset. */
async function visitBriefly(index: number): Promise<void> {
  const client = await connectClient(port);
  const closed = once(client.socket, 'close');
  await client.until('username: ');
  if (index % 3 !== 0) {
    client.say(`burst${index}`);
    await client.until('Welcome, ');
  }
  if (index % 3 === 2) client.socket.resetAndDestroy();
  else client.socket.end();
  await closed;
}

/** Whether a fresh connection may log in as `nick`: it may unless the users map holds it. */
async function nameIsFree(nick: string): Promise<boolean> {
  const client = await connectClient(port);
  try {
    await client.until('username: ');
    client.say(nick);
    const answer = await client.until('\n');
    return answer === `Welcome, ${nick}\n`;
  } finally {
    client.socket.destroy();
  }
}

it('stays up through every abuse in turn, with a users map that holds exactly who is connected', async () => {
  const run = start(['--host', '127.0.0.1', '--port', '0', '--rate', '100000', '--burst', '100000', '--max-send-queue', '262144']);
  port = await listeningPort(run);
  visitors = visitorsOf(port);
  const { join, open } = visitors;
  const witness = await join('witness');
  const heard: string[] = [];
  const witnessReads = async (expected: string): Promise<void> => {
    heard.push(await witness.until(expected));
  };
  const talker = await join('talker');
  const spoken: string[] = [];
  const speak = (line: string) => {
    spoken.push(line);
    talker.say(line);
  };

  const big = await join('big');
  await writeUnterminated(big.socket, 10 * 1024 * 1024);
  big.socket.write('\n');
  expect(await big.until('*** line too long (max 4096 bytes)\n')).toContain('*** line too long');
  speak('after the long line');

  const nul = await join('nul');
  nul.socket.write(Buffer.from([0x6e, 0x00, 0x75, 0xfe, 0x6c, 0x0a]));
  await witnessReads('[nul] nu\uFFFDl\n');

  const esc = await join('esc');
  esc.say('\x1b[2J\x1b]0;pwned\x07clean');
  await witnessReads('[esc] clean\n');

  const tel = await open();
  await tel.until('username: ');
  tel.socket.write(Buffer.from([0xff, 0xfb, 0x18, 0x74, 0x65, 0x6c, 0xff, 0xfa, 0x18, 0x00, 0x41, 0xff, 0xf0, 0x0d, 0x0a]));
  await tel.until('*** tel just joined the chatroom\n');
  speak('after telnet');

  const rst = await join('rst');
  rst.socket.resetAndDestroy();
  await witnessReads('*** rst has disconnected\n');

  const half = await join('half');
  half.socket.end('half-closed');
  await witnessReads('[half] half-closed\n*** half has disconnected\n');

  const stuck = await join('stuck');
  stuck.socket.pause();
  // Ballast a megabyte at a time until the server gives up on the non-reader, 64 MB at most.
  const stuckLeft = () => heard.some((text) => text.includes('*** stuck has disconnected\n'));
  for (let batch = 0; batch < 64 && !stuckLeft(); batch++) {
    const lines = Array.from({ length: 250 }, (_, i) => `ballast ${batch}.${i} ${'.'.repeat(4000)}`);
    lines.forEach(speak);
    await witnessReads(`[talker] ${lines[lines.length - 1]}\n`);
  }
  speak('after the non-reader');
  await witnessReads('[talker] after the non-reader\n');
  expect(stuckLeft()).toBe(true);

  await inBatches(1000, 250, visitBriefly);
  speak('after the burst');
  await witnessReads('[talker] after the burst\n');
  const leaves = heard.join('');
  for (const nick of ['rst', 'half', 'stuck']) expect(leaves.split(`*** ${nick} has disconnected\n`)).toHaveLength(2); // once each

  expect(run.child.exitCode).toBeNull(); // alive
  const connected = ['witness', 'talker', 'big', 'nul', 'esc', 'tel'];
  for (const nick of connected) expect(await nameIsFree(nick)).toBe(false);
  const departed = ['rst', 'half', 'stuck', ...Array.from({ length: 1000 }, (_, i) => `burst${i}`).filter((_, i) => i % 3 !== 0)];
  const free: string[] = [];
  await inBatches(departed.length, 100, async (i) => {
    const nick = departed[i] ?? '';
    if (await nameIsFree(nick)) free.push(nick);
  });
  expect(free.sort()).toEqual([...departed].sort());

  const newcomer = await join('newcomer');
  newcomer.say('made it');
  speak('the end');
  await witnessReads('[talker] the end\n');
  const all = heard.join('');
  expect(all).toContain('[newcomer] made it\n');
  // Through all of the above, the witness heard every line of the talker's, in order.
  expect(all.split('\n').filter((line) => line.startsWith('[talker] '))).toEqual(spoken.map((line) => `[talker] ${line}`));
});
