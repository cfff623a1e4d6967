import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import type { RawData, WebSocket } from 'ws';
import { sharedTextFrames } from './frames';

/** The subprotocol of chatd's own page: a connection that asks for it is also sent CONCEAL and REVEAL. */
export const PAGE_PROTOCOL = 'chatd';

/** Control messages to the page. A chat line never holds a NUL (chat text is cleaned of control
 * characters), so neither can be taken for one, nor one for them. */
export const CONCEAL = '\u0000conceal';
export const REVEAL = '\u0000reveal';

/** The close code and reason for a binary message: the protocol is lines of text. */
export const BINARY_CLOSE = { code: 1003, reason: 'text messages only' } as const;

/** Each socket's stream, for the listeners shared by all of them. */
const streams = new WeakMap<WebSocket, WebStream>();

// One set of listeners for every WebSocket, `this` being it: closures for each would be held for
// each user's whole stay.
function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
  const stream = streams.get(this);
  if (stream === undefined) return;
  if (isBinary) this.close(BINARY_CLOSE.code, BINARY_CLOSE.reason);
  else stream.received(Buffer.isBuffer(data) ? data : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]));
}

function onPong(this: WebSocket): void {
  const stream = streams.get(this);
  if (stream !== undefined) stream.alive = true;
}

function onError(this: WebSocket, error: Error): void {
  const stream = streams.get(this);
  if (stream !== undefined) stream.failure ??= error; // ws closes the connection itself, with the code the error calls for
}

function onClose(this: WebSocket): void {
  const stream = streams.get(this);
  stream?.destroy(stream.failure);
}

const NEWLINE = Buffer.from('\n');

/**
 * A WebSocket as the nc protocol's bytes, the stream a DoorConnection carries. Reads: each text
 * message as a line ("\n"-ended; one with newlines inside is several), so the chat's own line
 * reader bounds it as it does a TCP user's input. Writes: one text message per line, "\n"
 * included, and a message for an unfinished tail (a prompt); written to the socket as frames made
 * once per Buffer, which the fan-out shares among a room's members. Closes when the WebSocket does,
 * with the error that ended it, if any; ending it closes the WebSocket (1000).
 */
export class WebStream extends Duplex {
  /** A pong came since the last ping: the keepalive sweep's mark. */
  alive = true;
  /** What ended the WebSocket: a message too long, a protocol error. */
  failure: Error | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly socket: Socket,
  ) {
    super({ allowHalfOpen: true });
    streams.set(ws, this);
    ws.on('message', onMessage).on('pong', onPong).on('error', onError).on('close', onClose);
  }

  /** A text message from the peer, as the lines it holds. */
  received(message: Buffer): void {
    this.push(message);
    if (message[message.length - 1] !== NEWLINE[0]) this.push(NEWLINE);
  }

  /** Tells chatd's page to hide or show what its user types; a client that did not ask for the page's protocol is sent nothing. */
  conceal(hidden: boolean): void {
    if (this.ws.protocol === PAGE_PROTOCOL && this.ws.readyState === this.ws.OPEN) this.ws.send(hidden ? CONCEAL : REVEAL);
  }

  override _read(): void {} // the WebSocket pushes; a line reader consumes at once

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.OPEN) return done(); // closing: its 'close' is on the way
    // Held back while the socket's own buffer is full, so what waits counts in this stream's
    // writableLength, which the fan-out's send queue limit reads.
    if (this.socket.write(sharedTextFrames(chunk))) done();
    else this.socket.once('drain', done);
  }

  override _final(done: (error?: Error | null) => void): void {
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(1000);
    done();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    if (this.ws.readyState !== this.ws.CLOSED) this.ws.terminate();
    done(error);
  }
}
