import unhomoglyph from 'unhomoglyph';
import { MAX_NAME_LENGTH, nameKey, nameProblem } from '../../lib/chat/names';

const INVISIBLE = 'username must not contain invisible characters';
const hex = (codePoint: number): string => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;
// The invisible characters of the issue, each of which let `bob` log in next to bob.
const INVISIBLES = [0x202e, 0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x2060, 0x2066, 0x2067, 0x2068, 0x2069];

describe('MAX_NAME_LENGTH', () => {
  it('is 32 characters', () => {
    expect(MAX_NAME_LENGTH).toBe(32);
  });
});

describe('nameProblem', () => {
  it.each(['ali\u0307ce', 'al\u0131\u0307ce', 'j\u0307ane', 'ali\u0307\u0301ce'])('refuses %j: a dot above an i or a j hides in the letter', (name) => {
    expect(nameProblem(name)).toBe('username must not put a dot above an i or a j (it hides in the letter)');
  });

  it('takes other marks over an i, which show: í, ï', () => {
    expect(nameProblem('marí')).toBeUndefined();
    expect(nameProblem('naïve')).toBeUndefined();
  });

  it.each([
    ['', 'username must not be empty'],
    ['a b', 'username must not contain spaces'],
    ['a\tb', 'username must not contain spaces'],
    ['a\u00a0b', 'username must not contain spaces'],
    ['a\u2028b', 'username must not contain spaces'],
    ['\x1b[31mred', 'username must not contain control characters'],
    ['nul\0', 'username must not contain control characters'],
    ['c1\u009b', 'username must not contain control characters'],
    ['x'.repeat(MAX_NAME_LENGTH + 1), 'username too long (max 32 characters)'],
  ])('refuses %j, as it did before the script rules', (name, reason) => {
    expect(nameProblem(name)).toBe(reason);
  });

  it.each(INVISIBLES.flatMap((codePoint) => [
    [`${hex(codePoint)} before bob`, `${String.fromCodePoint(codePoint)}bob`],
    [`${hex(codePoint)} after bob`, `bob${String.fromCodePoint(codePoint)}`],
  ]))('refuses %s as invisible', (_label, name) => {
    expect(nameProblem(name)).toBe(INVISIBLE);
  });

  it.each([
    ['bob with a Cyrillic о', 'b\u043eb', 'username must not mix scripts (Latin and Cyrillic)'],
    ['a name made only of combining marks', '\u0301\u0308', 'username must not start with a combining mark'],
    ['***', '***', 'username must not start with * (server notices do)'],
    ['[alice]', '[alice]', 'username must not contain [ or ] (chat lines put names in them)'],
  ])('refuses %s, a name of the issue, saying why', (_label, name, reason) => {
    expect(nameProblem(name)).toBe(reason);
  });

  it.each([
    ['a Hangul filler', '\u3164', INVISIBLE],
    ['a zero-width no-break space', '\ufeffbob', INVISIBLE],
    ['a variation selector', 'bob\ufe0f', INVISIBLE],
    ['a tag character', 'bob\u{e0041}', INVISIBLE],
    ['an unassigned code point', 'bob\u0378', 'username must not contain unassigned characters'],
    ['a noncharacter', 'bob\ufdd0', 'username must not contain unassigned characters'],
    ['a star inside', 'a*b', 'username may only contain letters, digits and _ - .'],
    ['punctuation', 'bob!', 'username may only contain letters, digits and _ - .'],
    ['an emoji', '\u{1f415}', 'username may only contain letters, digits and _ - .'],
    ['Cyrillic with Han', 'Дмитрий李', 'username must not mix scripts (Cyrillic and Han)'],
    ['Japanese with Hangul', 'やまだ김', 'username must not mix scripts (Hiragana and Hangul)'],
    ['Latin, Japanese and Cyrillic', 'bobやまだД', 'username must not mix scripts (Latin, Hiragana, and Cyrillic)'],
  ])('refuses %s, saying why', (_label, name, reason) => {
    expect(nameProblem(name)).toBe(reason);
  });

  it.each([
    ['José', 'Jos\u00e9'],
    ['José in NFD', 'Jose\u0301'],
    ['Дмитрий', 'Дмитрий'],
    ['李雷', '李雷'],
    ['やまだ', 'やまだ'],
    ['山田たろう', '山田たろう'],
    ['김민준', '김민준'],
    ['bob_2', 'bob_2'],
    ['a.b-c', 'a.b-c'],
    ['Zoë', 'Zo\u00eb'],
    ['Zoë in NFD', 'Zoe\u0308'],
    ['Latin with Japanese', 'bobやまだ'],
    ['Arabic letters with Arabic-Indic digits', 'علي٢'],
    ['the longest name', 'x'.repeat(MAX_NAME_LENGTH)],
    ['the longest name in NFD, counted in NFC', 'e\u0301'.repeat(MAX_NAME_LENGTH)],
  ])('accepts %s', (_label, name) => {
    expect(nameProblem(name)).toBeUndefined();
  });
});

describe('nameKey', () => {
  it.each([
    ['with a Cyrillic о', 'b\u043eb'],
    ['in fullwidth letters', '\uff42\uff4f\uff42'],
    ['in capitals', 'BOB'],
    ['capitalized', 'Bob'],
  ])('gives bob %s the key of bob', (_label, name) => {
    expect(nameKey(name)).toBe(nameKey('bob'));
  });

  it.each([
    ['aIice', 'alice', 'a capital I for the l'],
    ['AIICE', 'alice', 'capitals, the Ls as Is'],
    ['a1ice', 'alice', 'a one for the l'],
    ['B0B', 'bob', 'zeros for the Os'],
    ['b0b', 'BOB', 'a zero, against capitals'],
    ['\u0410\u0406\u0406\u0421\u0415', 'alice', 'Cyrillic capitals, Іs for the Ls'],
  ])('gives %s the key of %s: %s, a lookalike that folding case first hid', (name, twin) => {
    expect(nameKey(name)).toBe(nameKey(twin));
  });

  it.each([
    ['ali\u0307ce', 'a combining dot above the i'],
    ['al\u0131\u0307ce', 'a dotless i dotted again'],
    ['ALI\u0307CE', 'a dot above a capital I'],
    ['j\u0307ane', 'a dot above a j'],
  ])('gives %j the key of the name without it: %s hides in the letter', (name) => {
    expect(nameKey(name)).toBe(nameKey(name.normalize('NFD').replace(/\u0307/gu, '').replace('\u0131', 'i')));
  });

  it('counts i and l as one letter, as a capital I passes for an l: kai and kal are one name', () => {
    expect(nameKey('kai')).toBe(nameKey('kal'));
  });

  const NAME_ASCII = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-'];

  it('gives each ASCII letter one key in either case', () => {
    for (const letter of NAME_ASCII) expect([letter, nameKey(`x${letter.toUpperCase()}y`)]).toEqual([letter, nameKey(`x${letter.toLowerCase()}y`)]);
  });

  it('gives each ASCII name character, as typed, the key of what confusables.txt says it passes for', () => {
    const passing = NAME_ASCII.filter((character) => unhomoglyph(character) !== character);
    expect(passing.map((character) => [character, unhomoglyph(character)])).toEqual([['I', 'l'], ['m', 'rn'], ['0', 'O'], ['1', 'l']]);
    for (const character of passing) expect([character, nameKey(`x${character}y`)]).toEqual([character, nameKey(`x${unhomoglyph(character)}y`)]);
  });

  it('gives rn and m one key, as confusables.txt maps m to rn', () => {
    expect(nameKey('m')).toBe(nameKey('rn'));
  });

  it('gives a whole-script lookalike the key of its Latin twin: Cyrillic сор is cop', () => {
    expect(nameKey('\u0441\u043e\u0440')).toBe(nameKey('cop'));
  });

  it('gives a name one key whichever way it is composed', () => {
    expect(nameKey('Jos\u00e9')).toBe(nameKey('Jose\u0301'));
    expect(nameKey('Zo\u00eb')).toBe(nameKey('zoe\u0308'));
  });

  it('folds case beyond lower case: ß is ss, and a final sigma is a sigma', () => {
    expect(nameKey('straße')).toBe(nameKey('STRASSE'));
    expect(nameKey('ΟΔΟΣ')).toBe(nameKey('οδοσ'));
  });

  it('keeps distinct names apart', () => {
    const names = ['bob', 'bab', 'alice', 'ann', 'anna', 'José', 'Jose', 'Дмитрий', 'Dmitry', '李雷', 'やまだ'];
    expect(new Set(names.map(nameKey)).size).toBe(names.length);
  });
});
