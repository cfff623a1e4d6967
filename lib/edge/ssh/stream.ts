import { Duplex } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { ServerChannel } from 'ssh2';
import { Terminal } from './terminal';

/** The columns a terminal is taken to have when its client says 0. */
export const DEFAULT_COLUMNS = 80;

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
  readonly keys: readonly string[];

  constructor(
    private readonly channel: ServerChannel,
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
    channel.on('end', () => this.push(null));
    channel.on('close', () => this.destroy());
    channel.on('error', (err: Error) => this.destroy(err));
  }

  /** The terminal is `columns` wide now. */
  resize(columns: number): void {
    if (this.terminal !== undefined && columns > 0) this.send(this.terminal.resize(columns));
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
    this.channel.exit(0);
    this.channel.end();
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.channel.destroy();
    done(error);
  }

  private typed(chunk: Buffer): void {
    const { terminal } = this;
    if (terminal === undefined) {
      this.push(chunk);
      return;
    }
    const { screen, lines, leave } = terminal.input(this.input.write(chunk));
    this.send(screen);
    for (const line of lines) this.push(`${line}\n`);
    if (leave) this.push(null);
  }

  /** Writes the terminal's echo at once, beside the chat's output. */
  private send(screen: string): void {
    if (screen !== '' && this.channel.writable) this.channel.write(screen);
  }
}
