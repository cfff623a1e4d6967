import { graphemes, graphemeWidth } from './width';

/** The bytes that draw a line being edited, and the row (from the line's first) the cursor is left on. */
export interface Drawn {
  readonly bytes: string;
  readonly cursorRow: number;
}

/** A place on the screen, from the edit area's top left corner. */
interface Place {
  readonly row: number;
  readonly column: number;
}

/** Erases the edit area drawn last, whose cursor was left `cursorRow` rows below its first, and leaves the cursor at its start. */
export function erase(cursorRow: number): string {
  return `\r${cursorRow > 0 ? `\x1b[${cursorRow}A` : ''}\x1b[J`;
}

/**
 * Where each grapheme starts when `cells` are written from a row's start, `width` columns a row:
 * a wide one that does not fit at a row's end starts the next row, as terminals do. The last
 * place is where the cursor stands after them all.
 */
function places(cells: readonly string[], width: number): Place[] {
  const found: Place[] = [];
  let row = 0;
  let column = 0;
  for (const cell of cells) {
    const cellWidth = graphemeWidth(cell);
    if (cellWidth > 0 && column + cellWidth > width) {
      row += 1;
      column = 0;
    }
    found.push({ row, column });
    column += cellWidth;
  }
  found.push(column >= width && cells.length > 0 ? { row: row + 1, column: 0 } : { row, column });
  return found;
}

/**
 * Draws `prompt` and `chars` from the cursor (at a row's start) on a terminal `width` columns
 * wide, and moves the cursor to before `chars[cursor]`. A line that ends at a row's last column
 * moves on to the next row, so the terminal's cursor is where the count says it is.
 */
export function draw(prompt: string, chars: readonly string[], cursor: number, width: number): Drawn {
  const promptCells = graphemes(prompt);
  const cells = [...promptCells, ...chars];
  const at = places(cells, Math.max(1, width));
  const end = at[at.length - 1] ?? { row: 0, column: 0 };
  const target = at[promptCells.length + cursor] ?? end;
  let bytes = cells.join('');
  if (end.column === 0 && end.row > 0) bytes += '\r\n'; // out of the terminal's pending wrap, onto the next row
  const up = end.row - target.row;
  if (up > 0) bytes += `\x1b[${up}A`;
  if (up > 0 || target.column !== end.column) bytes += `\r${target.column > 0 ? `\x1b[${target.column}C` : ''}`;
  return { bytes, cursorRow: target.row };
}
