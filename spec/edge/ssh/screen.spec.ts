import { draw, erase } from '../../../lib/edge/ssh/screen';
import { Screen } from '../../support/screen';

describe('screen', () => {
  it('leaves the cursor on the next row when the line ends at the last column', () => {
    const drawn = draw('> ', [...'abcd'], 4, 6);
    expect(drawn.cursorRow).toBe(1);
    const screen = new Screen(6);
    screen.write(drawn.bytes);
    expect(screen.lines()).toEqual(['> abcd']);
    expect(screen.cursor()).toEqual({ row: 1, column: 0 });
  });

  it('puts the cursor back on an earlier row, and erases every row drawn', () => {
    const drawn = draw('> ', [...'abcdefgh'], 1, 6);
    const screen = new Screen(6);
    screen.write(drawn.bytes);
    expect(screen.cursor()).toEqual({ row: 0, column: 3 });
    screen.write(erase(drawn.cursorRow));
    expect(screen.lines()).toEqual([]);
  });
});
