import { PASSWORD_PROMPT, PROMPT } from '../../chat/texts';
import { type Key, KeyDecoder } from './keys';
import { LineEditor } from './line-editor';
import { NamesSeen } from './names-seen';
import { draw, type Drawn, erase } from './screen';
import { graphemes } from './width';

/** What the user's keys did: the bytes that show it on their screen, the lines they sent, whether they are leaving. */
export interface Typed {
  readonly screen: string;
  readonly lines: readonly string[];
  readonly leave: boolean;
}

/**
 * A terminal (an SSH pty) on which chatd edits the user's line, as ssh-chat does: what the chat
 * sends is written above the line being typed, which is drawn again below it. Pure: text in,
 * screen bytes and lines out; the door does the I/O. The prompt is the chat's own while it asks
 * for something (`Please enter your username: `, `Password: `), then `[NAME] ` once the chat has
 * welcomed NAME. At a password prompt, or while concealed, nothing typed is shown or remembered.
 */
export class Terminal {
  private readonly keys = new KeyDecoder();
  private readonly editor: LineEditor;
  private readonly names = new NamesSeen();
  private asked = ''; // what the chat sent after its last newline: its prompt, if any
  private concealed = false;
  private cursorRow = 0; // the row of the edit area the cursor is on, from its first
  private interrupted = false; // the last key was Ctrl-C: a second one leaves
  private left = false;
  private firstAnswer: string | undefined; // sent already for the user: shown after the first username prompt

  constructor(
    private width: number,
    maxLineBytes: number,
  ) {
    this.editor = new LineEditor(maxLineBytes);
  }

  /** The chat's prompt the user is at, or '' when it asks nothing. */
  get prompt(): string {
    return this.asked;
  }

  /** The user's name, once the chat has welcomed them. */
  get me(): string | undefined {
    return this.names.me;
  }

  /** The door sent `name` as the user's first line: it is shown as typed at the first username prompt. */
  answerFirstPrompt(name: string): void {
    this.firstAnswer = name;
  }

  /** Writes what the chat sent above the line being typed ("\n" as "\r\n"), and the line again below it; once closed, the text alone. */
  output(text: string): string {
    if (this.left) return text.replaceAll('\n', '\r\n');
    const lastNewline = text.lastIndexOf('\n');
    let whole: string | undefined;
    if (lastNewline === -1) this.asked += text;
    else {
      whole = this.asked + text.slice(0, lastNewline);
      this.asked = text.slice(lastNewline + 1);
      for (const line of whole.split('\n')) this.names.read(line);
    }
    const answer = this.firstAnswer;
    if (answer !== undefined && this.asked === PROMPT) {
      this.firstAnswer = undefined;
      whole = `${whole === undefined ? '' : `${whole}\n`}${PROMPT}${answer}`;
      this.asked = '';
    }
    if (whole === undefined) return this.redraw();
    return `${erase(this.cursorRow)}${whole.replaceAll('\n', '\r\n')}\r\n${this.draw()}`;
  }

  /** Takes what the user's terminal sent. */
  input(text: string): Typed {
    if (this.left) return { screen: '', lines: [], leave: false };
    const lines: string[] = [];
    let screen = '';
    let edited = false; // drawn once after the keys, not after each: a thousand arrow keys must not draw the line a thousand times
    for (const key of this.keys.decode(text)) {
      const wasInterrupted = this.interrupted;
      this.interrupted = false;
      if (key.kind === 'enter') {
        const { shown, line } = this.enter();
        screen += shown;
        lines.push(line);
        edited = false;
      } else if (key.kind === 'interrupt' && wasInterrupted) return this.leave(screen, lines);
      else if (key.kind === 'eof' && this.editor.text === '') return this.leave(screen, lines);
      else {
        this.interrupted = key.kind === 'interrupt';
        edited = this.edit(key) || edited;
      }
    }
    return { screen: edited ? `${screen}${this.redraw()}` : screen, lines, leave: false };
  }

  /** The chat is done: the line being typed is taken off the screen, which leaves the cursor at a fresh line for what the client prints next (its shell's prompt). */
  close(): string {
    if (this.left) return '';
    this.left = true;
    return erase(this.cursorRow);
  }

  /**
   * The terminal is `width` columns wide now: the line is drawn again to fit. Terminals that
   * rewrap their rows to a new width (tmux, VTE, kitty, iTerm2, Windows Terminal) have rewrapped
   * the edit area with the cursor in it, so it is erased from the row the cursor has at the new
   * width; from the old row, a widened window lost the chat lines above it and a narrowed one
   * kept the top of the old line. (xterm, which does not rewrap, can lose a line above when narrowed.)
   */
  resize(width: number): string {
    this.cursorRow = this.layout(width).cursorRow;
    this.width = width;
    return this.redraw();
  }

  /** Hides what the user types from now on (a password), or shows it again. */
  conceal(hidden: boolean): string {
    this.concealed = hidden;
    return this.redraw();
  }

  private get hidden(): boolean {
    return this.concealed || this.asked === PASSWORD_PROMPT;
  }

  /** Applies one editing key; false when it changed nothing to draw. */
  private edit(key: Key): boolean {
    const { editor } = this;
    switch (key.kind) {
      case 'text': return editor.insert(key.text);
      case 'backspace': editor.backspace(); break;
      case 'delete':
      case 'eof': editor.deleteForward(); break;
      case 'left': editor.left(); break;
      case 'right': editor.right(); break;
      case 'home': editor.home(); break;
      case 'end': editor.end(); break;
      case 'up': if (!this.hidden) editor.up(); break;
      case 'down': if (!this.hidden) editor.down(); break;
      case 'kill-line': editor.killLine(); break;
      case 'kill-word': editor.killWord(); break;
      case 'complete': if (!this.hidden) editor.complete(this.names.names()); break;
      case 'interrupt': editor.end(); editor.killLine(); break;
      case 'redraw':
      case 'enter': break;
    }
    return true;
  }

  /**
   * Enter: an answer to the chat's prompt stays on the screen, as a terminal would leave it; so
   * does a command. A chat line is taken off: the chat sends it back as `[NAME] text`.
   */
  private enter(): { shown: string; line: string } {
    const hidden = this.hidden;
    const line = this.editor.submit(!hidden);
    const answered = this.asked !== '';
    const keep = answered || this.names.me === undefined || line.startsWith('/');
    const typed = hidden ? [] : graphemes(line);
    const shown = keep ? `${erase(this.cursorRow)}${draw(this.currentPrompt(), typed, typed.length, this.width).bytes}\r\n` : erase(this.cursorRow);
    this.asked = '';
    this.cursorRow = 0;
    return { shown: `${shown}${this.draw()}`, line };
  }

  private leave(screen: string, lines: string[]): Typed {
    this.left = true;
    return { screen: `${screen}${erase(this.cursorRow)}`, lines, leave: true };
  }

  private currentPrompt(): string {
    if (this.asked !== '') return this.asked;
    const me = this.names.me;
    return me === undefined ? '' : `[${me}] `;
  }

  private redraw(): string {
    if (this.left) return ''; // the line was taken off for good
    return `${erase(this.cursorRow)}${this.draw()}`;
  }

  /** Draws the prompt and the line from the edit area's start. */
  private draw(): string {
    const drawn = this.layout(this.width);
    this.cursorRow = drawn.cursorRow;
    return drawn.bytes;
  }

  /** The prompt and the line as drawn `width` columns wide. */
  private layout(width: number): Drawn {
    const { editor } = this;
    const chars = this.hidden ? [] : editor.graphemes;
    return draw(this.currentPrompt(), chars, this.hidden ? 0 : editor.cursor, width);
  }
}
