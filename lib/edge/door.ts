import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/** Which door a connection came through: what the logs and the figures say of it. */
export type DoorKind = 'tcp' | 'tls' | 'ssh' | 'web';

/**
 * A connection as a door hands it to the chat, whatever the door: its quirks (telnet commands, a
 * terminal's line editing, WebSocket frames) stay inside the door, which turns them into the nc
 * protocol's bytes and back. The same session, limits, pacing and fan-out then serve it.
 */
export interface DoorConnection {
  /**
   * Reads what the user typed, as "\n"-ended lines; takes what an nc user would be sent, byte for
   * byte. Emits 'close' once, when the connection is over; its 'error' listener is the door's.
   */
  readonly stream: Duplex;
  /** The TCP socket under it: what the per-address limits counted at its arrival, and whose bytes the figures count. */
  readonly raw: Socket;
  readonly door: DoorKind;
  /** Encrypted end to end (TLS, SSH, HTTPS): passwords may cross it without a warning. */
  readonly secure: boolean;
  /** The peer's address, for bans and the per-address rules; a trusted proxy's client for the web door. */
  readonly from: string;
  /** The peer as a log shows it (address and port). */
  readonly peer: string;
  /** Hides what the user types next (a password) or shows it again; absent when the door cannot. */
  readonly conceal?: (hidden: boolean) => void;
  /** Fingerprints (`SHA256:`...) of the public keys the peer proved it holds, in the order offered (SSH); absent when the door has none. */
  readonly keys?: readonly string[];
}

/** The peer's address; an IPv4 peer on a dual-stack socket shows as plain IPv4. */
export const peerAddress = (socket: Socket): string => (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(?=\d+\.)/, '');

/** The peer as a log shows it. */
export function peerName(socket: Socket): string {
  const address = peerAddress(socket);
  return address.includes(':') ? `[${address}]:${socket.remotePort}` : `${address}:${socket.remotePort}`;
}
