import type { Socket } from 'node:net';
import { duration } from '../chat/durations';
import type { CloseReason } from '../chat/outgoing';
import type { ChatView } from '../chat/view';
import type { ClusterHealth } from '../bus/health';
import type { InputCounter } from './input-counter';
import type { AdmissionRefusal } from './admission';
import type { PasswordFigures } from '../store/throttle';
import { SendQueueFullError } from './fanout';

/** Why a connection ended, as the metrics label it. */
export type DisconnectReason = 'eof' | 'error' | 'send_queue' | 'shutdown' | CloseReason;

/** Every DisconnectReason, in the order the figures list them. */
export const DISCONNECT_REASONS: readonly DisconnectReason[] = ['eof', 'error', 'login_timeout', 'login_limit', 'wrong_password', 'send_queue', 'quit', 'kick', 'banned', 'replaced', 'shutdown'];

/** Why a connection was refused at once, as the metrics label it: the server is full, or its
 * address holds too many connections or opens them too fast. (A banned address is refused at
 * login, where an operator's password still lets its operator in.) */
export type RefusalReason = AdmissionRefusal;

/** Every RefusalReason, in the order the figures list them. */
export const REFUSAL_REASONS: readonly RefusalReason[] = ['full', 'per_address', 'connect_rate'];

/**
 * Why a socket closed: the send queue or the chat closing it come first, then the shutdown
 * (which cuts off every peer), then the peer's error or its end of the connection.
 */
export function disconnectReason(errored: Error | null, closedBy: CloseReason | undefined, shuttingDown: boolean): DisconnectReason {
  if (errored instanceof SendQueueFullError) return 'send_queue';
  if (closedBy !== undefined) return closedBy;
  if (shuttingDown) return 'shutdown';
  return errored === null ? 'eof' : 'error';
}

/** A running server's figures at one moment: what `/metrics` and `/stats` show. */
export interface Figures {
  readonly uptimeSeconds: number;
  /** TLS connections whose handshake is under way: they count against the clients served. */
  readonly handshaking: number;
  readonly beforeLogin: number;
  readonly loggedIn: number;
  readonly accepted: number;
  readonly refused: Readonly<Record<RefusalReason, number>>;
  /** TLS handshakes that failed, timed out or were given up by the peer. */
  readonly handshakesFailed: number;
  readonly disconnects: Readonly<Record<DisconnectReason, number>>;
  readonly linesReceived: number;
  readonly linesDelivered: number;
  readonly linesOverlong: number;
  readonly linesFlooded: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly largestSendQueueBytes: number;
  readonly rooms: number;
  /** How this node sees its cluster; undefined when it serves alone. */
  readonly cluster: ClusterHealth | undefined;
  /** Password checks by how they ended, and the waits imposed on them. */
  readonly passwords: PasswordFigures;
}

/** What the figures need of the server, read at each look. */
export interface FigureSources {
  readonly sockets: Iterable<Socket>;
  readonly view: ChatView;
  readonly input: InputCounter;
  readonly attached: number;
  readonly handshakes: number;
  readonly linesWritten: number;
  readonly now: number;
  readonly cluster: ClusterHealth | undefined;
  readonly passwords: PasswordFigures;
}

/**
 * A server's connection counts: bumped once per connection, never per line. Bytes are read
 * from the sockets themselves when the figures are taken, and kept here once a socket closes.
 */
export class ConnectionTally {
  private accepted = 0;
  private readonly refused: Record<RefusalReason, number> = { full: 0, per_address: 0, connect_rate: 0 };
  private handshakesFailed = 0;
  private readonly disconnects: Record<DisconnectReason, number> = {
    eof: 0, error: 0, login_timeout: 0, login_limit: 0, wrong_password: 0, send_queue: 0, quit: 0, kick: 0, banned: 0, replaced: 0, shutdown: 0,
  };
  private closedBytesIn = 0;
  private closedBytesOut = 0;

  acceptedOne(): void {
    this.accepted += 1;
  }

  refusedOne(reason: RefusalReason): void {
    this.refused[reason] += 1;
  }

  handshakeFailed(): void {
    this.handshakesFailed += 1;
  }

  /** A socket closed, accepted (with why) or refused (without). */
  closed(socket: Socket | undefined, reason?: DisconnectReason): void {
    this.closedBytesIn += socket?.bytesRead ?? 0;
    this.closedBytesOut += socket?.bytesWritten ?? 0;
    if (reason !== undefined) this.disconnects[reason] += 1;
  }

  /** The figures now, from these counts and `sources`. */
  figures({ sockets, view, input, attached, handshakes, linesWritten, now, cluster, passwords }: FigureSources): Figures {
    let bytesIn = this.closedBytesIn;
    let bytesOut = this.closedBytesOut;
    let largestSendQueueBytes = 0;
    for (const socket of sockets) {
      bytesIn += socket.bytesRead;
      bytesOut += socket.bytesWritten;
      largestSendQueueBytes = Math.max(largestSendQueueBytes, socket.writableLength);
    }
    return {
      uptimeSeconds: Math.max(0, (now - view.startedAt) / 1000),
      handshaking: handshakes,
      beforeLogin: Math.max(0, attached - view.online), // a leaving user's delayed lines keep them online a while
      loggedIn: view.online,
      accepted: this.accepted,
      refused: { ...this.refused },
      handshakesFailed: this.handshakesFailed,
      disconnects: { ...this.disconnects },
      linesReceived: input.received,
      linesDelivered: linesWritten,
      linesOverlong: input.overlong,
      linesFlooded: input.flooded,
      bytesIn,
      bytesOut,
      largestSendQueueBytes,
      rooms: view.rooms(),
      cluster,
      passwords,
    };
  }
}

/** The figures in a few lines for a person: what `/stats` shows. */
export function statsText(figures: Figures): string {
  const { disconnects, refused } = figures;
  const refusals = REFUSAL_REASONS.map((reason) => `${refused[reason]} refused (${reason.replaceAll('_', ' ')})`).join(', ');
  const byReason = DISCONNECT_REASONS.map((reason) => `${disconnects[reason]} ${reason.replaceAll('_', ' ')}`).join(', ');
  return [
    `up for ${duration(figures.uptimeSeconds * 1000)}`,
    `connections: ${figures.loggedIn} logged in, ${figures.beforeLogin} before login, ${figures.handshaking} in TLS handshake; ${figures.accepted} accepted, ${refusals}`,
    `TLS handshakes failed: ${figures.handshakesFailed}`,
    `disconnects: ${byReason}`,
    `lines: ${figures.linesReceived} received, ${figures.linesDelivered} delivered; dropped ${figures.linesOverlong} overlong, ${figures.linesFlooded} flooding`,
    `bytes: ${figures.bytesIn} in, ${figures.bytesOut} out; largest send queue ${figures.largestSendQueueBytes} bytes`,
    `rooms: ${figures.rooms}`,
    passwordLine(figures.passwords),
    ...(figures.cluster === undefined ? [] : [clusterLine(figures.cluster)]),
    '',
  ].join('\n');
}

const passwordLine = ({ right, wrong, unchecked, failed, waits, waitSeconds }: PasswordFigures): string =>
  `passwords: ${right} right, ${wrong} wrong, ${unchecked} not checked, ${failed} failed; ${waits} waits, ${Math.round(waitSeconds)} s in all`;

const clusterLine = ({ busUp, nodes }: ClusterHealth): string =>
  `cluster: bus ${busUp ? 'up' : 'down'}, ${nodes} ${nodes === 1 ? 'node' : 'nodes'} alive`;
