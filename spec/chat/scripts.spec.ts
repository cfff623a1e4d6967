import { mixedScripts } from '../../lib/chat/scripts';

describe('mixedScripts', () => {
  it.each([
    ['one script', 'Дмитрий'],
    ['only Common characters', '2_-.'],
    ['Common and Inherited characters with any script', 'Ελένη_2\u0301'],
    ['Latin with Han, Hiragana and Katakana', 'bob山田たろうカタ'],
    ['Latin with Han and Bopomofo', 'bob李ㄅ'],
    ['Latin with Han and Hangul', 'bob李김'],
  ])('finds none in %s', (_label, text) => {
    expect(mixedScripts(text)).toBeUndefined();
  });

  it.each([
    ['Latin and Cyrillic', 'b\u043eb', ['Latin', 'Cyrillic']],
    ['Latin and Greek', 'b\u03bfb', ['Latin', 'Greek']],
    ['Hangul and Hiragana', '김やまだ', ['Hangul', 'Hiragana']],
    ['Han with Cyrillic', '李Дима', ['Han', 'Cyrillic']],
  ])('names %s, each once, in the order they come', (_label, text, scripts) => {
    expect(mixedScripts(text)).toEqual(scripts);
  });

  it("knows the script of every letter, mark and digit of this Node's Unicode", () => {
    const unknown: string[] = [];
    for (let codePoint = 0; codePoint <= 0x10ffff; codePoint += 1) {
      const char = String.fromCodePoint(codePoint);
      if (/^[\p{L}\p{M}\p{Nd}]$/u.test(char) && mixedScripts(char) !== undefined) unknown.push(char);
    }
    expect(unknown).toEqual([]);
  });
});
