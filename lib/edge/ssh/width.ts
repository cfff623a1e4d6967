/** Splits text into what a user sees as one character: a letter with its accents, an emoji with its modifiers. */
const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** Code points that take no column: combining marks, joiners, variation selectors, formatting. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\u1160-\u11FF]$/u;

/** Emoji shown as pictures by default take two columns, as terminals draw them. */
const EMOJI_PRESENTATION = /^\p{Emoji_Presentation}$/u;
const EMOJI = /^\p{Emoji}$/u;
const EMOJI_STYLE = '\uFE0F'; // asks for the picture form of an emoji that is text by default

/** East Asian Wide and Fullwidth blocks (Unicode's EastAsianWidth.txt, W and F): two columns each. */
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], [0x2329, 0x232a], [0x2e80, 0x303e], [0x3041, 0x33ff], [0x3400, 0x4dbf], [0x4e00, 0x9fff],
  [0xa000, 0xa4cf], [0xa960, 0xa97f], [0xac00, 0xd7a3], [0xf900, 0xfaff], [0xfe10, 0xfe19], [0xfe30, 0xfe6f],
  [0xff00, 0xff60], [0xffe0, 0xffe6], [0x16fe0, 0x16fe4], [0x17000, 0x18cff], [0x1b000, 0x1b2ff],
  [0x1f200, 0x1f2ff], [0x20000, 0x2fffd], [0x30000, 0x3fffd],
];

function isWide(codePoint: number): boolean {
  for (const [first, last] of WIDE_RANGES) if (codePoint >= first && codePoint <= last) return true;
  return false;
}

/** The columns one code point takes on a terminal: 0, 1 or 2; control characters take none. */
export function codePointWidth(char: string): number {
  const codePoint = char.codePointAt(0) ?? 0;
  if (codePoint < 0x20 || (codePoint >= 0x7f && codePoint < 0xa0)) return 0;
  if (ZERO_WIDTH.test(char)) return 0;
  return isWide(codePoint) || EMOJI_PRESENTATION.test(char) ? 2 : 1;
}

/** Printable ASCII: a grapheme a character, as no rule of Unicode's joins two of them. */
const plain = (text: string, at: number): boolean => {
  const code = text.charCodeAt(at);
  return code >= 0x20 && code < 0x7f;
};

/** The columns one grapheme takes: its first visible code point's, or two for an emoji asked to be a picture. */
export function graphemeWidth(grapheme: string): number {
  if (grapheme.length === 1 && plain(grapheme, 0)) return 1; // most of what is typed, drawn with each key
  const chars = [...grapheme];
  const first = chars[0];
  if (first === undefined) return 0;
  if (chars.includes(EMOJI_STYLE) && EMOJI.test(first)) return 2;
  for (const char of chars) {
    const width = codePointWidth(char);
    if (width > 0) return width;
  }
  return 0;
}

/**
 * `text` as graphemes, the units the line editor moves over and deletes. Runs of printable ASCII
 * are split here and only the rest goes to the segmenter, whose time grows faster than the text
 * (a 16 KB paste took it a fifth of a second on Node 20); the last of a run goes with what follows,
 * which may join it (an accent after its letter).
 */
export function graphemes(text: string): string[] {
  const found: string[] = [];
  let at = 0;
  while (at < text.length) {
    let end = at;
    while (end < text.length && plain(text, end)) end += 1;
    if (end === text.length) end += 1;
    for (; at < end - 1; at += 1) found.push(text.charAt(at));
    if (at >= text.length) break;
    let next = at + 1; // the first place past `at` between two printable ASCII characters: a break for sure
    while (next < text.length && !(plain(text, next - 1) && plain(text, next))) next += 1;
    for (const part of segmenter.segment(text.slice(at, next))) found.push(part.segment);
    at = next;
  }
  return found;
}

/** The columns `text` takes on a terminal. */
export function columns(text: string): number {
  let total = 0;
  for (const grapheme of graphemes(text)) total += graphemeWidth(grapheme);
  return total;
}
