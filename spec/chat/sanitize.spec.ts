import { cleanText, hasControl } from '../../lib/chat/sanitize';

describe('cleanText', () => {
  it.each([
    ['CSI colour', 'a\x1b[1;31mred\x1b[0m', 'ared'],
    ['CSI clear screen', '\x1b[2J\x1b[Hhi', 'hi'],
    ['8-bit CSI', 'a\u009b31mb', 'ab'],
    ['OSC title ended by BEL', '\x1b]0;pwned\x07ok', 'ok'],
    ['OSC hyperlink ended by ST', '\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\', 'link'],
    ['unterminated OSC', 'ok\x1b]0;title', 'ok'],
    ['DCS', 'a\x1bPq#0\x1b\\b', 'ab'],
    ['two-byte ESC', 'a\x1bcb\x1b(Bc', 'abc'],
    ['C0 and DEL', 'a\x00b\x07c\x08d\x7fe\rf', 'abcdef'],
    ['C1', 'a\u0085b\u0084c', 'abc'],
    ['an APC string, to its end', 'a\u009fhidden\u009cb', 'ab'],
  ])('removes %s', (_name, input, output) => {
    expect(cleanText(input)).toBe(output);
  });

  it('keeps tabs and any printable text', () => {
    const text = 'tab\there: héllo 🐕 [x] ~ ÿ';
    expect(cleanText(text)).toBe(text);
  });

  it.each([
    ['U+2028', '\u2028'],
    ['U+2029', '\u2029'],
  ])('makes the line separator %s a space, so no line starts inside a message', (_name, separator) => {
    expect(cleanText(`hi${separator}*** bob has disconnected`)).toBe('hi *** bob has disconnected');
  });

  it.each([
    ['U+202A', '\u202a'],
    ['U+202B', '\u202b'],
    ['U+202C', '\u202c'],
    ['U+202D', '\u202d'],
    ['U+202E', '\u202e'],
    ['U+2066', '\u2066'],
    ['U+2067', '\u2067'],
    ['U+2068', '\u2068'],
    ['U+2069', '\u2069'],
  ])('removes the bidi control %s', (_name, control) => {
    expect(cleanText(`a${control}bc${control}`)).toBe('abc');
  });

  it('keeps the zero-width joiner of an emoji sequence, in a clean text and in one it cleans', () => {
    const coder = '\u{1f469}\u200d\u{1f4bb}'; // 👩‍💻: woman, ZWJ, laptop
    expect(cleanText(`${coder} here`)).toBe(`${coder} here`);
    expect(cleanText(`\u202e${coder}\u2028here`)).toBe(`${coder} here`);
  });
});

describe('hasControl', () => {
  it('finds an escape, a C0, DEL or C1 character, and not a tab-free printable text', () => {
    expect(['\x1b', '\x00', '\n', '\x7f', '\u0080'].map(hasControl)).toEqual([true, true, true, true, true]);
    expect(hasControl('plain ünïcode')).toBe(false);
  });

  it('leaves line separators and bidi controls to cleanText: they are not C0 or C1', () => {
    expect(['\u2028', '\u2029', '\u202e', '\u2066'].map(hasControl)).toEqual([false, false, false, false]);
  });
});
