import type { Readable } from 'node:stream';
import { Observable } from 'rxjs';
import split2 from 'split2';
import { telnetFilter } from './telnet';

/** Default for the longest line a client may send, in bytes, its line ending excluded. */
export const MAX_LINE_BYTES = 4096;

/** Stands in the input for a line over the limit, which was dropped. */
export const OVERLONG_LINE = Symbol('overlong line');

/** What a connection says: a line of text (no line ending), or that a line was dropped. */
export type Input = string | typeof OVERLONG_LINE;

/**
 * Socket input as lines, telnet commands removed. "\r\n" ends a line like "\n"; invalid UTF-8
 * becomes U+FFFD. A line over `maxLineBytes` is dropped (the rest of it up to its newline too)
 * and OVERLONG_LINE stands in its place, so memory stays bounded however long it is.
 * Completes when the peer ends the connection (after its unterminated last line, if any) or
 * the socket closes; errors when the socket errors.
 */
export function socketLines(socket: Readable, maxLineBytes = MAX_LINE_BYTES): Observable<Input> {
  return new Observable<Input>((subscriber) => {
    const stripTelnet = telnetFilter();
    // split2 bounds the unfinished tail in characters (at most 4 bytes each), and skips a
    // line whose tail passed that bound; a line that arrives whole is measured here, in bytes.
    const bounds = { maxLength: maxLineBytes, skipOverflow: true }; // @types/split2 lacks skipOverflow
    const splitter = split2(/\r?\n/, bounds);
    // split2 4.2 sets `overflow` while it skips a line; it reports nothing else of it, so the
    // start of each skip is found here. Remove this when split2 reports skipped lines itself.
    const overflowing = () => 'overflow' in splitter && splitter.overflow === true;
    let skipping = false;
    const onLine = (line: string) => {
      if (overflowing()) return; // at the end of input, split2 flushes the skipped line's tail
      subscriber.next(Buffer.byteLength(line) > maxLineBytes ? OVERLONG_LINE : line);
    };
    const onData = (chunk: Buffer) => {
      const text = stripTelnet(chunk);
      const wasSkipping = skipping;
      const skipEnded = wasSkipping && text.includes(0x0a); // the next line may overflow at once
      splitter.write(text);
      skipping = overflowing();
      if (skipping && (!wasSkipping || skipEnded)) subscriber.next(OVERLONG_LINE);
    };
    const onEnd = () => splitter.end();
    const onError = (err: Error) => subscriber.error(err);
    const onClose = () => subscriber.complete(); // 'close' also covers a reset, which has no 'end'
    splitter.on('data', onLine).on('end', onClose).on('error', onError);
    socket.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    return () => {
      socket.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      splitter.destroy();
    };
  });
}
