/** What a key (or a sequence of them) asks the line editor to do. Text is what was typed, whole graphemes or not. */
export type Key = { readonly kind: 'text'; readonly text: string } | { readonly kind: Action };

/** A key that is not text. */
export type Action =
  | 'enter' | 'backspace' | 'delete' | 'left' | 'right' | 'home' | 'end' | 'up' | 'down'
  | 'kill-line' | 'kill-word' | 'complete' | 'eof' | 'interrupt' | 'redraw';

/** Single control bytes and what they ask; any other control byte is dropped. */
const CONTROLS: ReadonlyMap<string, Action> = new Map([
  ['\r', 'enter'], ['\n', 'enter'], ['\x7f', 'backspace'], ['\b', 'backspace'], ['\t', 'complete'],
  ['\x01', 'home'], ['\x05', 'end'], ['\x02', 'left'], ['\x06', 'right'], ['\x10', 'up'], ['\x0e', 'down'],
  ['\x15', 'kill-line'], ['\x17', 'kill-word'], ['\x04', 'eof'], ['\x03', 'interrupt'], ['\x0c', 'redraw'],
]);

/** CSI and SS3 sequences the editor handles, by their parameters and final byte. */
const SEQUENCES: ReadonlyMap<string, Action> = new Map([
  ['A', 'up'], ['B', 'down'], ['C', 'right'], ['D', 'left'], ['H', 'home'], ['F', 'end'],
  ['1~', 'home'], ['7~', 'home'], ['4~', 'end'], ['8~', 'end'], ['3~', 'delete'],
]);

/** The most of a CSI sequence's parameters kept while it is unfinished; past them it is read to its end and dropped. */
export const MAX_ESCAPE_LENGTH = 64;

const ESC = '\x1b';
const BEL = '\x07';

/** Where the decoder is inside an escape sequence. */
type Escape = 'none' | 'esc' | 'csi' | 'ss3' | 'string' | 'string-esc';

/**
 * A terminal's input as keys. Escape sequences are followed across chunks until they end; those the
 * editor does not handle (function keys, mouse reports, Alt+key, OSC and DCS strings) are dropped
 * whole, never taken as text. "\r\n" is one Enter, as a terminal that sends both means one.
 */
export class KeyDecoder {
  private escape: Escape = 'none';
  private sequence = ''; // a CSI's parameters so far, up to MAX_ESCAPE_LENGTH; strings keep nothing
  private afterCarriageReturn = false;

  /** The keys in `chunk`, runs of plain text as one key each. */
  decode(chunk: string): Key[] {
    const keys: Key[] = [];
    let text = '';
    const flushText = () => {
      if (text !== '') keys.push({ kind: 'text', text });
      text = '';
    };
    for (const char of chunk) {
      const wasCarriageReturn = this.afterCarriageReturn;
      this.afterCarriageReturn = false;
      if (this.escape !== 'none') {
        const key = this.inEscape(char);
        if (key !== undefined) {
          flushText();
          keys.push({ kind: key });
        }
      } else if (char === ESC) {
        this.start('esc');
      } else if (char < ' ' || char === '\x7f' || (char >= '\x80' && char < '\xa0')) {
        if (char === '\n' && wasCarriageReturn) continue;
        this.afterCarriageReturn = char === '\r';
        const kind = CONTROLS.get(char);
        if (kind === undefined) continue;
        flushText();
        keys.push({ kind });
      } else text += char;
    }
    flushText();
    return keys;
  }

  private start(escape: Escape): void {
    this.escape = escape;
    this.sequence = '';
  }

  /** Takes one character of an escape sequence; the key it ends with, if the editor handles it. */
  private inEscape(char: string): Action | undefined {
    switch (this.escape) {
      case 'esc':
        if (char === '[') this.escape = 'csi';
        else if (char === 'O') this.escape = 'ss3';
        else if (char === ']' || char === 'P' || char === '_' || char === '^' || char === 'X') this.escape = 'string';
        else this.escape = 'none'; // Alt+key, or a two-byte sequence: dropped
        return undefined;
      case 'ss3':
        this.escape = 'none';
        return SEQUENCES.get(char);
      case 'csi': {
        const code = char.charCodeAt(0);
        if (code >= 0x40 && code <= 0x7e) {
          this.escape = 'none';
          return SEQUENCES.get(`${this.sequence}${char}`);
        }
        if (code < 0x20 || code > 0x3f) this.escape = 'none'; // not a CSI after all: dropped
        if (this.sequence.length < MAX_ESCAPE_LENGTH) this.sequence += char;
        return undefined;
      }
      case 'string':
        if (char === BEL) this.escape = 'none';
        else if (char === ESC) this.escape = 'string-esc';
        return undefined;
      case 'string-esc':
        this.escape = char === '\\' ? 'none' : 'string';
        return undefined;
      case 'none':
        return undefined;
    }
  }
}
