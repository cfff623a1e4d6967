import { sharedTextFrames, textFrames } from '../../../lib/edge/web/frames';

/** The messages `frames` holds, each a final unmasked text frame (RFC 6455, 5.2), or throws. */
function messages(frames: Buffer): string[] {
  const read: string[] = [];
  for (let at = 0; at < frames.length;) {
    if (frames[at] !== 0x81) throw new Error(`not a final text frame at ${at}`);
    const short = frames[at + 1] ?? 0;
    if (short > 127) throw new Error('masked');
    const [length, header] = short === 126 ? [frames.readUInt16BE(at + 2), 4] : short === 127 ? [Number(frames.readBigUInt64BE(at + 2)), 10] : [short, 2];
    read.push(frames.toString('utf8', at + header, at + header + length));
    at += header + length;
  }
  return read;
}

describe('textFrames', () => {
  it('makes a text message of each line, its newline included, and one of an unfinished tail', () => {
    expect(messages(textFrames(Buffer.from('*** ann just joined\n[ann] hé\nPassword: ')))).toEqual(['*** ann just joined\n', '[ann] hé\n', 'Password: ']);
  });

  it('frames lengths of each header size', () => {
    const lines = [125, 126, 65_535, 65_536].map((length) => `${'x'.repeat(length - 1)}\n`);
    expect(messages(textFrames(Buffer.from(lines.join(''))))).toEqual(lines);
  });

  it('frames a chunk once for a run of writes of the same Buffer', () => {
    const chunk = Buffer.from('[ann] hi\n');
    const first = sharedTextFrames(chunk);
    expect(sharedTextFrames(chunk)).toBe(first);
    expect(sharedTextFrames(Buffer.from('[ann] hi\n'))).not.toBe(first); // the same bytes, another Buffer: framed again
  });
});
