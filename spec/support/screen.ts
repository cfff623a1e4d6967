import { graphemes, graphemeWidth } from '../../lib/edge/ssh/width';

/**
 * A terminal screen as specs read it: what bytes a program wrote leave on it, row by row, as an
 * xterm shows them. It knows what the SSH door writes: text (wide characters in two cells, a
 * pending wrap at a row's end), "\r", "\n", and CSI A (up), C (right), J and K (erase below, erase
 * the line's rest); any other sequence fails the spec.
 */
export class Screen {
  private rows: string[][] = [[]];
  private row = 0;
  private column = 0;
  private pendingWrap = false;

  constructor(private readonly width: number) {}

  write(bytes: string): void {
    for (let at = 0; at < bytes.length; ) {
      const csi = /^\x1b\[(\d*)([ACJK])/.exec(bytes.slice(at));
      if (csi !== null) {
        this.sequence(Number(csi[1] === '' ? 1 : csi[1]), csi[2] ?? '');
        at += csi[0].length;
        continue;
      }
      if (bytes[at] === '\x1b') throw new Error(`unexpected escape sequence: ${JSON.stringify(bytes.slice(at, at + 8))}`);
      const next = bytes.slice(at).search(/[\x1b\r\n]/);
      const end = next === -1 ? bytes.length : at + Math.max(next, 1);
      const text = bytes.slice(at, end);
      if (text === '\r') [this.column, this.pendingWrap] = [0, false];
      else if (text === '\n') this.down();
      else for (const grapheme of graphemes(text)) this.put(grapheme);
      at = end;
    }
  }

  /** The screen's rows, trailing spaces and empty trailing rows left off. */
  lines(): string[] {
    const lines = this.rows.map((cells) => cells.join('').replace(/ +$/, ''));
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  /** Where the cursor is. */
  cursor(): { row: number; column: number } {
    return { row: this.row, column: this.column };
  }

  private line(): string[] {
    while (this.rows.length <= this.row) this.rows.push([]);
    const cells = this.rows[this.row] ?? [];
    while (cells.length < this.width) cells.push(' ');
    this.rows[this.row] = cells;
    return cells;
  }

  private down(): void {
    this.row += 1;
    this.pendingWrap = false;
    this.line();
  }

  private put(grapheme: string): void {
    const width = graphemeWidth(grapheme);
    if (width === 0) return;
    if (this.pendingWrap || this.column + width > this.width) {
      this.down();
      this.column = 0;
    }
    const cells = this.line();
    cells[this.column] = grapheme;
    if (width === 2) cells[this.column + 1] = '';
    this.column += width;
    this.pendingWrap = this.column >= this.width;
    if (this.pendingWrap) this.column = this.width - 1;
  }

  private sequence(count: number, final: string): void {
    this.pendingWrap = false;
    if (final === 'A') this.row = Math.max(0, this.row - count);
    else if (final === 'C') this.column = Math.min(this.width - 1, this.column + count);
    else if (final === 'J') {
      this.line().fill(' ', this.column);
      this.rows.length = this.row + 1;
    } else this.line().fill(' ', this.column);
  }
}
