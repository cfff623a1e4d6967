import { graphemes } from './width';

/** Lines the editor keeps for up and down; older ones are forgotten. */
export const MAX_HISTORY_LINES = 100;

/**
 * The line a user is typing on a terminal, its cursor, and the lines they typed before. Pure:
 * keys in, a line out on `submit`; the terminal draws it. It moves over graphemes, so a letter
 * with its accents or an emoji with its modifiers is one step and one deletion. The line holds
 * at most `maxLineBytes` bytes: what would pass them is not taken.
 */
export class LineEditor {
  private chars: string[] = [];
  private at = 0; // the cursor, in graphemes
  private readonly history: string[] = [];
  private browsing = -1; // the history line shown, from the newest; -1: the one being typed
  private draft = ''; // the line being typed while the history is browsed

  constructor(private readonly maxLineBytes: number) {}

  /** The line as typed so far. */
  get text(): string {
    return this.chars.join('');
  }

  /** The line's graphemes. */
  get graphemes(): readonly string[] {
    return this.chars;
  }

  /** Where the cursor is, in graphemes from the line's start. */
  get cursor(): number {
    return this.at;
  }

  /** Types `text` at the cursor, as much of it as the line's bound lets in; false when none of it fits. */
  insert(text: string): boolean {
    let room = this.maxLineBytes - Buffer.byteLength(this.text);
    let fits = '';
    // A code unit is a byte at least: what fits is in the first room + 1 of them, all a paste costs.
    for (const grapheme of graphemes(text.slice(0, Math.max(0, room) + 1))) {
      if ((room -= Buffer.byteLength(grapheme)) < 0) break;
      fits += grapheme;
    }
    if (fits === '') return false;
    // Only the graphemes either side may join what is typed (an accent after its letter): the
    // rest of the line is not split again, which would cost each key the whole line.
    const start = Math.max(0, this.at - 1);
    const after = this.chars[this.at] ?? '';
    const joined = graphemes(`${this.chars[this.at - 1] ?? ''}${fits}${after}`);
    this.chars.splice(start, this.at - start + (after === '' ? 0 : 1), ...joined);
    this.at = start + joined.length - (after !== '' && joined[joined.length - 1] === after ? 1 : 0);
    return true;
  }

  backspace(): void {
    if (this.at === 0) return;
    this.chars.splice(this.at - 1, 1);
    this.at -= 1;
  }

  deleteForward(): void {
    this.chars.splice(this.at, 1);
  }

  left(): void {
    this.at = Math.max(0, this.at - 1);
  }

  right(): void {
    this.at = Math.min(this.chars.length, this.at + 1);
  }

  home(): void {
    this.at = 0;
  }

  end(): void {
    this.at = this.chars.length;
  }

  /** Ctrl-U: deletes from the line's start to the cursor. */
  killLine(): void {
    this.chars.splice(0, this.at);
    this.at = 0;
  }

  /** Ctrl-W: deletes the word before the cursor, and the spaces after it. */
  killWord(): void {
    let start = this.at;
    while (start > 0 && this.chars[start - 1] === ' ') start -= 1;
    while (start > 0 && this.chars[start - 1] !== ' ') start -= 1;
    this.chars.splice(start, this.at - start);
    this.at = start;
  }

  /** Shows the line typed before the one shown; the line being typed is kept for `down`. */
  up(): void {
    if (this.browsing + 1 >= this.history.length) return;
    if (this.browsing === -1) this.draft = this.text;
    this.browsing += 1;
    this.show(this.history[this.history.length - 1 - this.browsing] ?? '');
  }

  /** Shows the line typed after the one shown, and last the line that was being typed. */
  down(): void {
    if (this.browsing === -1) return;
    this.browsing -= 1;
    this.show(this.browsing === -1 ? this.draft : (this.history[this.history.length - 1 - this.browsing] ?? ''));
  }

  /**
   * Completes the word before the cursor to one of `names` that starts with it (case aside): to
   * the whole name and a space when one fits, to what they share when several do.
   */
  complete(names: Iterable<string>): void {
    let start = this.at;
    while (start > 0 && this.chars[start - 1] !== ' ') start -= 1;
    if (this.chars[start] === '@') start += 1; // `@ann`: the name is what follows
    const word = this.chars.slice(start, this.at).join('');
    if (word === '') return;
    const fits = [...names].filter((name) => name.toLowerCase().startsWith(word.toLowerCase()));
    const first = fits[0];
    if (first === undefined) return;
    const completion = fits.length === 1 ? `${first} ` : sharedStart(fits);
    if (completion.length <= word.length) return;
    const prefix = this.chars.slice(0, start).join('');
    const rest = this.chars.slice(this.at).join('');
    const typed = prefix + completion;
    if (Buffer.byteLength(typed + rest) > this.maxLineBytes) return;
    this.chars = graphemes(typed + rest);
    this.at = graphemes(typed).length;
  }

  /** Enter: the line, which starts the next one empty; kept for `up` unless `remember` is false (a password). */
  submit(remember = true): string {
    const line = this.text;
    if (remember && line.trim() !== '' && this.history[this.history.length - 1] !== line) {
      this.history.push(line);
      if (this.history.length > MAX_HISTORY_LINES) this.history.shift();
    }
    this.show('');
    this.browsing = -1;
    this.draft = '';
    return line;
  }

  private show(line: string): void {
    this.chars = graphemes(line);
    this.at = this.chars.length;
  }
}

/** What every one of `names` starts with, case aside, as the first of them spells it. */
function sharedStart(names: readonly string[]): string {
  const first = names[0] ?? '';
  let length = first.length;
  for (const name of names) {
    while (length > 0 && name.slice(0, length).toLowerCase() !== first.slice(0, length).toLowerCase()) length -= 1;
  }
  return first.slice(0, length);
}
