import type { Readable, Transform } from 'node:stream';
import { Observable, type Subscriber, type Unsubscribable } from 'rxjs';
import split2 from 'split2';
import { BUDGET_SPENT, type Input, INPUT_ENDED, MAX_LINE_BYTES, OVERLONG_LINE } from '../chat/input';
import { ECHO, hasTelnetCommand, TelnetFilter } from './telnet';

/** Writes a telnet command to `socket`, the one being read, in answer to one the client sent. */
export type TelnetAnswerer = (socket: Readable, command: Buffer) => void;

const ignoreTelnet: TelnetAnswerer = () => {};

const LINE_FEED = 0x0a;

/** Where a splitter's lines go: the reader that holds it. */
interface LineReceiver {
  line(text: string): void;
}

const IGNORING: LineReceiver = { line: () => {} };

/** Spare splitters kept per line limit. One is enough while lines arrive whole; more are made
 * while many sockets have a line unfinished at once, and past this many they are let go. */
const MAX_SPARE_SPLITTERS = 8;

/**
 * A split2 stream whose lines go to whichever reader holds it. Its mapper is called for each
 * line inside write() and returns nothing, so a line is out before write() returns and nothing
 * waits on the stream's readable side.
 */
class Splitter {
  receiver: LineReceiver = IGNORING;
  readonly stream: Transform;

  constructor(readonly maxLineBytes: number) {
    // split2 bounds the unfinished tail in characters (at most 4 bytes each), and skips a
    // line whose tail passed that bound; every line it emits is measured by the reader, in
    // bytes. One character more than the limit leaves room for the "\r" of a line exactly at
    // the limit whose "\n" comes in the next chunk.
    const bounds = { maxLength: maxLineBytes + 1, skipOverflow: true }; // @types/split2 lacks skipOverflow
    this.stream = split2(/\r?\n/, (line: string) => this.receiver.line(line), bounds);
  }

  /** True while split2 skips a line over the limit. split2 4.2 sets `overflow` then and reports
   * nothing else of it. Remove this when split2 reports skipped lines itself. */
  get overflowing(): boolean {
    return 'overflow' in this.stream && this.stream.overflow === true;
  }
}

/**
 * Splitters with nothing buffered, by line limit. A reader holds one only while a line of its
 * socket is unfinished, so an idle connection costs no stream of its own (bench/README.md has
 * what one cost).
 */
const spareSplitters = new Map<number, Splitter[]>();

const takeSplitter = (maxLineBytes: number): Splitter =>
  spareSplitters.get(maxLineBytes)?.pop() ?? new Splitter(maxLineBytes);

function giveBack(splitter: Splitter): void {
  splitter.receiver = IGNORING;
  const spares = spareSplitters.get(splitter.maxLineBytes);
  if (spares === undefined) spareSplitters.set(splitter.maxLineBytes, [splitter]);
  else if (spares.length < MAX_SPARE_SPLITTERS) spares.push(splitter);
}

/**
 * Socket input as lines, telnet commands removed. "\r\n" ends a line like "\n"; invalid UTF-8
 * becomes U+FFFD. A line over `maxLineBytes` is dropped (the rest of it up to its newline too)
 * and OVERLONG_LINE stands in its place, so memory stays bounded however long it is.
 * BUDGET_SPENT comes once, as soon as a chunk takes the bytes received (telnet commands and
 * dropped lines included) past `budgetBytes`, before that chunk's lines: a line that never ends
 * spends the budget as it arrives.
 * The client's telnet option negotiation is answered through `answer` (telnet.ts), which gets
 * the socket: a client that sends no telnet command is sent none.
 * INPUT_ENDED comes when the peer ends its side of the connection (after its unterminated last
 * line, if any); the Observable completes when the socket closes, and errors when it closes with
 * an error, so a connection lost after its peer's end is still told apart from one that ended
 * well. It adds no 'error' listener (one per connection, held for its whole stay) but reads
 * `errored` at the close: the caller keeps its own on the socket, as the server does on every
 * socket from the start.
 */
export function socketLines(socket: Readable, maxLineBytes = MAX_LINE_BYTES, budgetBytes = Infinity, answer: TelnetAnswerer = ignoreTelnet): Observable<Input> {
  return new Observable<Input>((subscriber) => new LineReader(socket, subscriber, maxLineBytes, budgetBytes, answer));
}

/** The last reader to subscribe to each socket being read; the others follow it (`LineReader.next`). */
const readers = new WeakMap<Readable, LineReader>();

/**
 * Hides what the user of `socket` types next, or shows it again, where the client has shown it
 * speaks telnet: it has sent a telnet command by now. chatd then asks to echo (IAC WILL ECHO),
 * echoes nothing but the line ends, and gives the echo back (IAC WONT ECHO). A client that has
 * sent none may be nc, which would print a telnet command: it is sent none, and what its user
 * types stays on their screen. One function for every socket, where a closure for each would be
 * held for each user's whole stay.
 */
export function concealTyping(socket: Readable, hidden: boolean): void {
  for (let reader = readers.get(socket); reader !== undefined; reader = reader.next) if (reader.conceal(hidden)) return;
}

// One set of listeners for every socket, rather than closures for each connection: each finds
// the socket's readers, `this` being the socket. A reader that subscribes while they are called
// comes first in the chain, so it is given nothing that arrived before it.
function onData(this: Readable, chunk: Buffer): void {
  for (let reader = readers.get(this); reader !== undefined; reader = reader.next) reader.data(chunk);
}

function onEnd(this: Readable): void {
  for (let reader = readers.get(this); reader !== undefined; reader = reader.next) reader.end();
}

function onClose(this: Readable): void {
  for (let reader = readers.get(this); reader !== undefined; reader = reader.next) reader.close();
}

/**
 * One subscription's reading of a socket: the state kept between its chunks. An object rather
 * than closures over that state, since one lives for every connection: it is the splitter's
 * receiver and the subscription's teardown, and the listeners find it by its socket.
 */
class LineReader implements LineReceiver, Unsubscribable {
  private splitter: Splitter | undefined; // held while a line is unfinished: split2 keeps its start
  private skipping = false;
  private telnet: TelnetFilter | undefined; // made at the first telnet command: nc sends none
  /** The socket's reader that subscribed before this one; it stays set once this one is taken
   * out, so that listeners going through the chain at that moment still reach the rest. */
  next: LineReader | undefined;

  constructor(
    private readonly socket: Readable,
    private readonly subscriber: Subscriber<Input>,
    private readonly maxLineBytes: number,
    private budget: number, // what is left of it; below 0 once spent
    private readonly answer: TelnetAnswerer,
  ) {
    this.next = readers.get(socket);
    readers.set(socket, this);
    if (this.next === undefined) socket.on('data', onData).on('end', onEnd).on('close', onClose);
  }

  line(text: string): void {
    if (this.splitter?.overflowing === true) return; // at the end of input, split2 flushes the skipped line's tail
    this.subscriber.next(Buffer.byteLength(text) > this.maxLineBytes ? OVERLONG_LINE : text);
  }

  unsubscribe(): void {
    this.leaveChain();
    this.splitter?.stream.destroy();
    this.splitter = undefined;
  }

  data(chunk: Buffer): void {
    const { subscriber } = this;
    if (subscriber.closed) return; // taken out of the chain while the listener went through it
    if (this.budget >= 0 && (this.budget -= chunk.length) < 0) subscriber.next(BUDGET_SPENT);
    if (this.telnet === undefined && hasTelnetCommand(chunk)) this.telnet = new TelnetFilter((command) => this.answer(this.socket, command));
    const text = this.telnet === undefined ? chunk : this.telnet.strip(chunk);
    if (text.length === 0 || subscriber.closed) return; // closed: the budget's end ended the reading
    const wasSkipping = this.skipping;
    const skipEnded = wasSkipping && text.includes(LINE_FEED); // the next line may overflow at once
    const current = (this.splitter ??= takeSplitter(this.maxLineBytes));
    current.receiver = this;
    const endsLine = text[text.length - 1] === LINE_FEED;
    current.stream.write(text);
    this.skipping = current.overflowing;
    if (this.skipping && (!wasSkipping || skipEnded)) subscriber.next(OVERLONG_LINE);
    // A chunk that ends in a line feed leaves split2 nothing: no tail, no partial character.
    // Kept instead: a stream the subscription's end destroyed (`splitter` is unset then), one
    // that input's end ended, or one with a chunk still queued; the last two happen only when
    // a line's delivery makes this socket emit again, which a net.Socket never does.
    const { writableLength, writableEnded } = current.stream;
    if (endsLine && this.splitter === current && writableLength === 0 && !writableEnded) {
      this.splitter = undefined;
      giveBack(current);
    }
  }

  /** Asks the client to stop or resume its echo; false when it has not spoken telnet. */
  conceal(hidden: boolean): boolean {
    this.telnet?.ask('us', ECHO, hidden);
    return this.telnet !== undefined;
  }

  end(): void {
    const { splitter, subscriber } = this;
    if (splitter === undefined) return subscriber.next(INPUT_ENDED);
    splitter.stream.once('finish', () => subscriber.next(INPUT_ENDED)).end(); // its flush emits the last line
  }

  // 'close' also covers a reset, which has no 'end'; an error comes just before it.
  close(): void {
    const { errored } = this.socket;
    const settle = () => (errored === null ? this.subscriber.complete() : this.subscriber.error(errored));
    const ending = this.splitter?.stream;
    // The input's end is still flushing its last line: INPUT_ENDED comes first.
    if (ending !== undefined && ending.writableEnded && !ending.writableFinished) ending.once('finish', settle);
    else settle();
  }

  /** Takes this reader out of its socket's chain; the last one out removes the listeners. */
  private leaveChain(): void {
    const { socket } = this;
    const first = readers.get(socket);
    if (first === this) {
      if (this.next === undefined) {
        readers.delete(socket);
        socket.off('data', onData).off('end', onEnd).off('close', onClose);
      } else readers.set(socket, this.next);
      return;
    }
    let before = first;
    while (before !== undefined && before.next !== this) before = before.next;
    if (before !== undefined) before.next = this.next;
  }
}
