import type { Duplex } from 'node:stream';

/** Default time a connection we close waits for its peer to read its last line and close. */
export const FAREWELL_GRACE_MS = 3_000;

/** Connections already saying goodbye: a second farewell (a shutdown after a timeout) changes nothing. */
const leaving = new WeakSet<Duplex>();

/**
 * Closes a connection from our side without losing its last line: writes `last` (if any) after
 * what is queued, half-closes, and reads and drops whatever the peer still sends until the peer
 * closes too, or for `graceMs` at most, then destroys the socket. Destroying a socket with input
 * unread makes the kernel answer with a reset, and a peer that gets a reset drops what it had not
 * yet read: our last line with it. Whoever reads the socket's input must stop (a session's end
 * does); a socket not read from yet is drained too (a full receive window would hold the peer's
 * close back). The socket closes by itself once the peer's end arrives and our output is out.
 */
export function farewell(socket: Duplex, graceMs: number, last?: string): void {
  if (leaving.has(socket) || socket.destroyed) return;
  leaving.add(socket);
  // Not writable: ended already, as when the peer ended first; what is queued still goes out.
  if (socket.writable && last !== undefined) socket.end(last);
  else if (socket.writable) socket.end();
  socket.resume(); // in flowing mode with no 'data' listener, what arrives is dropped
  // A peer that neither reads nor closes would hold the socket open forever.
  const cutOff = setTimeout(() => socket.destroy(), graceMs);
  socket.once('close', () => clearTimeout(cutOff));
}
