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
});

describe('hasControl', () => {
  it('finds an escape, a C0, DEL or C1 character, and not a tab-free printable text', () => {
    expect(['\x1b', '\x00', '\n', '\x7f', '\u0080'].map(hasControl)).toEqual([true, true, true, true, true]);
    expect(hasControl('plain ünïcode')).toBe(false);
  });
});
