import { once } from 'node:events';
import { Duplex } from 'node:stream';
import { SshStream, TYPED_CHARS_PER_TURN } from '../../../lib/edge/ssh/stream';

/** A session channel whose client reads its screen only when told to (`release`). */
class SlowChannel extends Duplex {
  written = '';
  private held: (() => void)[] = [];

  constructor(private reading: boolean) {
    super({ writableHighWaterMark: 16 * 1024, decodeStrings: false });
  }

  override _read(): void {}

  override _write(chunk: unknown, _encoding: BufferEncoding, done: () => void): void {
    this.written += String(chunk);
    this.emit('wrote');
    if (this.reading) done();
    else this.held.push(done);
  }

  /** The client reads all it was sent, and from now on reads at once. */
  release(): void {
    this.reading = true;
    for (const done of this.held.splice(0)) done();
  }

  exit(): void {}
}

const open: SshStream[] = [];
const nextTurn = async (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
afterEach(() => {
  for (const stream of open.splice(0)) stream.destroy();
});

/** A stream on `channel` with a pty, logged in as ann, and its lines. */
async function loggedIn(channel: SlowChannel): Promise<{ stream: SshStream; lines: string[] }> {
  const stream = new SshStream(channel, { columns: 80, maxLineBytes: 4096, username: undefined, keys: [] });
  open.push(stream);
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(String(chunk)));
  const welcomed = once(channel, 'wrote');
  stream.write('Welcome, ann\n');
  await welcomed;
  return { stream, lines };
}

describe('SshStream', () => {
  it('takes a flood of keys a piece a turn, and none while the client does not read what they drew', async () => {
    const channel = new SlowChannel(false);
    const { lines } = await loggedIn(channel);
    channel.emit('data', Buffer.from(`${'x'.repeat(4000)}${'\x0c'.repeat(100_000)}\r`));
    expect(channel.writableLength).toBeLessThan(5000); // one piece drawn now; before, 100,000 draws of a 4 KB line at once
    while (!channel.writableNeedDrain) await nextTurn();
    await nextTurn();
    await nextTurn();
    expect(channel.writableLength).toBeLessThan(16 * 1024 + 5000); // past the channel's high-water mark, nothing more is taken
    expect(lines).toEqual([]);
    channel.release();
    while (lines.length === 0) await nextTurn();
    expect(lines).toEqual([`${'x'.repeat(4000)}\n`]);
    expect(TYPED_CHARS_PER_TURN).toBeLessThan(4000);
  });

  it('draws the line once at the next turn for a flood of window changes, at the last width', async () => {
    const channel = new SlowChannel(true);
    const { stream } = await loggedIn(channel);
    channel.emit('data', Buffer.from('abc'));
    const before = channel.written.length;
    for (let change = 0; change < 10_000; change += 1) stream.resize(1 + (change % 300));
    stream.resize(50);
    expect(channel.written.length).toBe(before);
    await once(channel, 'wrote');
    expect(channel.written.slice(before)).toBe('\r\x1b[J[ann] abc');
  });
});
