/** Names kept for completion; past it the longest unseen go first. */
export const MAX_NAMES_SEEN = 500;

const WELCOME = /^Welcome, (\S+)$/;
const RENAMED = /^\*\*\* (\S+) is now known as (\S+)$/;
const NOW_YOU_ARE = /; you are now (\S+)$/; // renamed by the chat: a name taken meanwhile, or claimed by its owner
const JOINED = /^\*\*\* (\S+) just joined /;
const LEFT = /^\*\*\* (\S+) has disconnected$/;
const SAID = /^\[(?:PM (?:from|to) )?([^\]\s]+)\] /;
const WHO = /^\*\*\* \d+ in \S+: (.*)$/;
const AWAY_MARK = / \(away[^)]*\)$/;

/**
 * Who the user is and who else they have seen, read from what the chat sends them, the lines of
 * an nc user: `Welcome, NAME` and a rename say who they are; joins, chat lines, private messages
 * and `/who` replies name the others, for Tab to complete. Only lines that start as the chat
 * starts them are read, so what a user says cannot pass for them.
 */
export class NamesSeen {
  private own: string | undefined;
  private readonly seen = new Map<string, true>(); // insertion order: the least recently seen first

  /** The user's name once the chat has welcomed them. */
  get me(): string | undefined {
    return this.own;
  }

  /** The names seen, the most recently seen last. */
  names(): IterableIterator<string> {
    return this.seen.keys();
  }

  /** Reads one whole line the chat sent, without its newline. */
  read(line: string): void {
    const welcomed = WELCOME.exec(line)?.[1];
    if (welcomed !== undefined) this.own = welcomed;
    const renamed = RENAMED.exec(line);
    if (renamed?.[1] !== undefined && renamed[2] !== undefined) {
      if (renamed[1] === this.own) this.own = renamed[2];
      this.seen.delete(renamed[1]);
      this.see(renamed[2]);
    }
    const now = NOW_YOU_ARE.exec(line)?.[1];
    if (now !== undefined && line.startsWith('*** ')) this.own = now;
    const left = LEFT.exec(line)?.[1];
    if (left !== undefined) this.seen.delete(left);
    const named = JOINED.exec(line)?.[1] ?? SAID.exec(line)?.[1];
    if (named !== undefined) this.see(named);
    const who = WHO.exec(line)?.[1];
    if (who !== undefined) for (const entry of who.split(', ')) this.see(entry.replace(AWAY_MARK, ''));
  }

  private see(name: string): void {
    if (name === '' || name === this.own) return;
    this.seen.delete(name);
    this.seen.set(name, true);
    if (this.seen.size > MAX_NAMES_SEEN) {
      const oldest = this.seen.keys().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
  }
}
