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

  it('splits only what is typed and its neighbours into graphemes, never the whole line again nor more of a paste than fits', () => {
    const segment = jest.spyOn(Intl.Segmenter.prototype, 'segment');
    try {
      const editor = new LineEditor(4096);
      editor.insert('日'.repeat(1000));
      editor.home();
      segment.mockClear();
      for (let key = 0; key < 100; key += 1) {
        editor.insert('本');
        editor.right();
      }
      editor.insert('日'.repeat(100_000));
      const split = segment.mock.calls.reduce((total, [text]) => total + text.length, 0);
      expect(split).toBeLessThan(2000); // the whole line each key, and the whole paste, were 200,000
      expect(editor.text).toBe(`${'本日'.repeat(100)}${'日'.repeat(265)}${'日'.repeat(900)}`);
      expect(editor.cursor).toBe(465);
    } finally {
      segment.mockRestore();
    }
  });
});
