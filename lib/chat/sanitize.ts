/**
 * Terminal safety. Text from one user is printed on every other user's terminal, so nothing
 * in it may act as a control: ANSI escape sequences, C0 controls other than tab, DEL and C1;
 * nor may it forge a line of its own or reorder the line it is in.
 */

// ECMA-48: CSI (ESC [ or 0x9b) with parameters, intermediates and a final byte; the string
// sequences OSC, DCS, SOS, PM and APC up to BEL or ST (or the end of the line when
// unterminated); and any other ESC with its intermediates and final byte.
const ESCAPE_SEQUENCE =
  /(?:\x1b\[|\x9b)[\x30-\x3f]*[\x20-\x2f]*[\x40-\x7e]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[\x20-\x2f]*[\x30-\x7e]?/g;

// Every control character but tab (0x09): C0 (NUL, ESC, CR and the rest), DEL and C1.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
const CONTROLS = new RegExp(CONTROL.source, 'g');

// U+2028 and U+2029 end a line where a terminal or client follows Unicode, so a sender could
// start a line of their own, `*** ` and all: they become a space.
const LINE_SEPARATORS = /[\u2028\u2029]/g;
// The bidi embeddings, overrides (U+202A..U+202E) and isolates (U+2066..U+2069) make what
// follows them display in another order than it was sent, on terminals that do bidi.
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;
// Anything cleanText changes, so that the common case is one test and no allocation.
const UNCLEAN = new RegExp(`${CONTROL.source}|${LINE_SEPARATORS.source}|${BIDI_CONTROLS.source}`);

/** True when the text holds a control character (an escape sequence starts with one). */
export const hasControl = (text: string): boolean => CONTROL.test(text);

/**
 * Message text with escape sequences, control characters and bidi controls removed, and line
 * separators made spaces; tabs stay, and so does the zero-width joiner that emoji need.
 */
export function cleanText(text: string): string {
  if (!UNCLEAN.test(text)) return text; // the common case allocates nothing
  return text
    .replace(ESCAPE_SEQUENCE, '')
    .replace(CONTROLS, '')
    .replace(LINE_SEPARATORS, ' ')
    .replace(BIDI_CONTROLS, '');
}

// What a line of a log or an error must not hold as it is: a control (a `\n` would start a
// forged line of its own, an escape sequence would drive the reader's terminal), a line or
// paragraph separator, a bidi control (it would show the line in another order), and the
// backslash that escapes them.
const UNPRINTABLE = /[\\\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const escapeOne = (character: string): string => {
  const named: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  const code = character.charCodeAt(0);
  return named[character] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
};

/**
 * `text` with every control character (and backslash) written as an escape, so that a field,
 * whatever its source (a user, a forged event on the bus, a corrupt data file), stays inside its
 * one log line.
 */
export const escapeControls = (text: string): string => text.replace(UNPRINTABLE, escapeOne);
