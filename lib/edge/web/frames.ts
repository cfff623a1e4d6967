/** A WebSocket text frame's first byte: FIN set, opcode 1 (text). Server frames are never masked. */
const TEXT_FRAME = 0x81;

const LINE_FEED = 0x0a;

/** The bytes a frame's header takes for a payload of `length` bytes (RFC 6455, 5.2). */
const headerBytes = (length: number): number => (length < 126 ? 2 : length < 0x10000 ? 4 : 10);

function writeHeader(into: Buffer, at: number, length: number): number {
  into[at] = TEXT_FRAME;
  if (length < 126) {
    into[at + 1] = length;
    return at + 2;
  }
  if (length < 0x10000) {
    into[at + 1] = 126;
    into.writeUInt16BE(length, at + 2);
    return at + 4;
  }
  into[at + 1] = 127;
  into.writeUInt32BE(Math.floor(length / 0x1_0000_0000), at + 2);
  into.writeUInt32BE(length % 0x1_0000_0000, at + 6);
  return at + 10;
}

/** Where each message of `chunk` ends: after each line feed, and at the end for an unfinished tail (a prompt). */
function messageEnds(chunk: Buffer): number[] {
  const ends: number[] = [];
  for (let at = chunk.indexOf(LINE_FEED); at !== -1; at = chunk.indexOf(LINE_FEED, at + 1)) ends.push(at + 1);
  if ((ends[ends.length - 1] ?? 0) < chunk.length) ends.push(chunk.length);
  return ends;
}

/**
 * The nc protocol's bytes as WebSocket text frames: one message per line, its "\n" included, and
 * one for an unfinished tail (a prompt ends without a newline). A line feed never sits inside a
 * UTF-8 sequence, so each message is valid UTF-8 when the chunk is.
 */
export function textFrames(chunk: Buffer): Buffer {
  const ends = messageEnds(chunk);
  let size = 0;
  let start = 0;
  for (const end of ends) {
    size += headerBytes(end - start) + end - start;
    start = end;
  }
  const frames = Buffer.allocUnsafe(size);
  let at = 0;
  start = 0;
  for (const end of ends) {
    at = writeHeader(frames, at, end - start);
    at += chunk.copy(frames, at, start, end);
    start = end;
  }
  return frames;
}

/**
 * The chunk framed last and its frames. The fan-out writes one room's batch, one Buffer, to every
 * member in a row: the first framing serves them all, as the Buffer does TCP users. One entry
 * rather than a table: the rooms' batches are written one after the other.
 */
let lastChunk: Buffer | undefined;
let lastFrames: Buffer = Buffer.alloc(0);

/** `textFrames(chunk)`, framed once for a run of writes of the same Buffer. */
export function sharedTextFrames(chunk: Buffer): Buffer {
  if (chunk !== lastChunk) {
    lastFrames = textFrames(chunk);
    lastChunk = chunk;
  }
  return lastFrames;
}
