import { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Terminal } from './terminal';

/** The columns a terminal is taken to have when its client says 0. */
export const DEFAULT_COLUMNS = 80;

/** Typed characters taken in one turn of the event loop; the rest wait for the next, so that a flood of keys shares it with every other user. */
export const TYPED_CHARS_PER_TURN = 256;

/** An SSH session's channel as the door uses it: ssh2's ServerChannel, or a spec's. */
export interface ShellChannel extends Duplex {
  exit(status: number): void;
}

/** How an SSH session's channel is read and written. */
export interface SshStreamOptions {
  /** The terminal's width when the client asked for a pty; undefined for plain lines (`ssh -T`, a pipe). */
  readonly columns: number | undefined;
  readonly maxLineBytes: number;
  /** The SSH user name, the user's first line, as if typed at the chat's username prompt; undefined types nothing. */
  readonly username: string | undefined;
  /** Fingerprints of the keys the client proved it holds (a signature verified). */
  readonly keys: readonly string[];
}

/**
 * An SSH session's shell channel as the nc protocol's bytes, the door's stream for the chat.
 * Without a pty it passes lines through as they are: exactly what nc gets. With one, chatd edits
 * the user's line (Terminal) and turns the chat's "\n" into "\r\n". Closes when the channel does;
 * ending it ends the channel, with exit status 0.
 */
export class SshStream extends Duplex {
  private readonly terminal: Terminal | undefined;
  private readonly input = new StringDecoder('utf8');
  private readonly output = new StringDecoder('utf8');
  private pending = ''; // typed but not taken yet: the channel is paused meanwhile
  private width: number | undefined; // the window's new width, drawn at the next turn: a flood of changes draws once
  private turn: NodeJS.Immediate | undefined;
  readonly keys: readonly string[];

  constructor(
    private readonly channel: ShellChannel,
    options: SshStreamOptions,
  ) {
    super({ allowHalfOpen: true }); // as the plain door: a peer's end still lets its last lines out
    const { columns } = options;
    this.terminal = columns === undefined ? undefined : new Terminal(columns > 0 ? columns : DEFAULT_COLUMNS, options.maxLineBytes);
    this.keys = options.keys;
    // First, before anything the client sends: its user name is its first username attempt.
    if (options.username !== undefined) {
      this.push(`${options.username}\n`);
      this.terminal?.answerFirstPrompt(options.username);
    }
    channel.on('data', (chunk: Buffer) => this.typed(chunk));
    channel.on('drain', () => this.catchUp()); // the screen has caught up: what waited is taken
    channel.on('end', () => this.push(null));
    channel.on('close', () => this.destroy());
    channel.on('error', (err: Error) => this.destroy(err));
  }

  /** The terminal is `columns` wide now: the line is drawn again to fit at the next turn. */
  resize(columns: number): void {
    if (this.terminal === undefined || columns <= 0) return;
    this.width = columns;
    this.later();
  }

  /** Hides what the user types (a password) or shows it again; a pipe shows nothing anyway. */
  conceal(hidden: boolean): void {
    if (this.terminal !== undefined) this.send(this.terminal.conceal(hidden));
  }

  override _read(): void {} // lines are pushed as they are typed

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    const { terminal } = this;
    if (terminal === undefined) {
      this.channel.write(chunk, () => done());
      return;
    }
    this.channel.write(terminal.output(this.output.write(chunk)), () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.terminal !== undefined) this.send(this.terminal.close());
    this.channel.exit(0);
    this.channel.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    clearImmediate(this.turn);
    this.channel.destroy();
    done(error);
  }

  private typed(chunk: Buffer): void {
    if (this.terminal === undefined) {
      this.push(chunk);
      return;
    }
    this.pending += this.input.write(chunk);
    this.catchUp();
  }

  /**
   * Takes a turn's worth of what waits: a new width, then up to TYPED_CHARS_PER_TURN typed
   * characters (a key can draw a whole line: a thousand of them at once would hold the event loop
   * and the memory of what they draw). Nothing is taken while the client reads its screen slower
   * than it types; the channel is paused while anything waits, so the client's window holds the rest.
   */
  private catchUp(): void {
    const { terminal } = this;
    if (terminal === undefined || this.destroyed) return;
    if (this.channel.writableNeedDrain) { // 'drain' calls again
      if (this.pending !== '') this.channel.pause();
      return;
    }
    if (this.width !== undefined) this.send(terminal.resize(this.width));
    this.width = undefined;
    let cut = Math.min(this.pending.length, TYPED_CHARS_PER_TURN);
    if (cut < this.pending.length && /[\ud800-\udbff]/.test(this.pending.charAt(cut - 1))) cut -= 1; // not between a surrogate pair
    const piece = this.pending.slice(0, cut);
    this.pending = this.pending.slice(cut);
    if (piece !== '') {
      const { screen, lines, leave } = terminal.input(piece);
      this.send(screen);
      for (const line of lines) this.push(`${line}\n`);
      if (leave) {
        this.pending = '';
        this.push(null);
      }
    }
    if (this.pending === '') this.channel.resume();
    else this.later();
  }

  /** Takes what waits at the next turn, with the channel paused until then. */
  private later(): void {
    this.channel.pause();
    this.turn ??= setImmediate(() => {
      this.turn = undefined;
      this.catchUp();
    });
  }

  /** Writes the terminal's echo at once, beside the chat's output. */
  private send(screen: string): void {
    if (screen !== '' && this.channel.writable) this.channel.write(screen);
  }
}
