import { KeyDecoder, MAX_ESCAPE_LENGTH } from '../../../lib/edge/ssh/keys';

describe('KeyDecoder', () => {
  it('reads arrows and Home/End from CSI and SS3, across chunks', () => {
    const decoder = new KeyDecoder();
    expect([...decoder.decode('\x1b[A\x1bOB\x1b'), ...decoder.decode('[3~')].map((key) => key.kind)).toEqual(['up', 'down', 'delete']);
  });

  it(`drops a long escape sequence whole, keeping at most ${MAX_ESCAPE_LENGTH} characters of it`, () => {
    const decoder = new KeyDecoder();
    expect(decoder.decode(`\x1b[${'1;'.repeat(MAX_ESCAPE_LENGTH * 100)}Ca\x1b]${'x'.repeat(100_000)}`)).toEqual([{ kind: 'text', text: 'a' }]);
    expect(decoder.decode('\x1b\\b')).toEqual([{ kind: 'text', text: 'b' }]);
  });

  it('drops control characters it does not handle', () => {
    expect(new KeyDecoder().decode('a\x00\x1a\x9bb')).toEqual([{ kind: 'text', text: 'ab' }]);
  });
});
