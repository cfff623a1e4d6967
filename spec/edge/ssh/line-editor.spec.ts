import { LineEditor, MAX_HISTORY_LINES } from '../../../lib/edge/ssh/line-editor';

describe('LineEditor', () => {
  it('moves over and deletes whole graphemes', () => {
    const editor = new LineEditor(100);
    editor.insert('ae\u0301👍🏽');
    editor.left();
    editor.backspace();
    expect(editor.text).toBe('a👍🏽');
    expect(editor.cursor).toBe(1);
    editor.deleteForward();
    expect(editor.text).toBe('a');
  });

  it('completes after an @, and leaves a word that fits no name alone', () => {
    const editor = new LineEditor(100);
    editor.insert('hey @an');
    editor.complete(['ann', 'bob']);
    expect(editor.text).toBe('hey @ann ');
    editor.insert('zz');
    editor.complete(['ann', 'bob']);
    expect(editor.text).toBe('hey @ann zz');
  });

  it(`keeps the last ${MAX_HISTORY_LINES} lines, no repeats in a row, no blank ones, none not remembered`, () => {
    const editor = new LineEditor(100);
    for (let n = 0; n <= MAX_HISTORY_LINES; n++) {
      editor.insert(`line ${n}`);
      editor.submit();
    }
    editor.insert('line 100');
    editor.submit();
    editor.insert('  ');
    editor.submit();
    editor.insert('secret');
    editor.submit(false);
    editor.up();
    expect(editor.text).toBe(`line ${MAX_HISTORY_LINES}`);
    for (let n = 0; n < MAX_HISTORY_LINES + 5; n++) editor.up();
    expect(editor.text).toBe('line 1');
  });
});
