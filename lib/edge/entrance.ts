import { Socket } from 'node:net';
import type { Duplex, Readable } from 'node:stream';
import type { UserId } from '../chat/events';
import type { Connection } from '../chat/connection';
import { besidePrompt, CONNECTING_TOO_FAST, SERVER_FULL, SHUTTING_DOWN, tooManyConnections } from '../chat/texts';
import { Admission, type AdmissionLimits, type AdmissionRefusal } from './admission';
import { type DoorConnection, type DoorKind, peerAddress, peerName } from './door';
import { farewell } from './farewell';
import { type Conceal, type Fanout, SendQueueFullError } from './fanout';
import { ConnectionTally, type DisconnectReason, disconnectReason, type RefusalReason } from './connection-stats';
import { concealTyping, socketLines, type TelnetAnswerer } from './lines';

/** The most refused connections told why and left to close at their peer's pace at once; past
 * it a refused connection is closed without a word, so refusals cannot hold sockets unbounded. */
export const MAX_REFUSALS_CLOSING = 1_000;

/** How a connection's door hides what its user types: telnet's one function for every TCP and
 * TLS connection, another door's its connection's own. */
function concealOf(connection: DoorConnection, telnet: boolean): Conceal | undefined {
  const { conceal } = connection;
  if (telnet) return concealTyping;
  return conceal === undefined ? undefined : (_stream, hidden) => conceal(hidden);
}

/** The limits the entrance applies to every connection, whatever its door. */
export interface EntranceOptions extends AdmissionLimits {
  readonly maxLineBytes: number;
  readonly maxLoginBytes: number;
  readonly maxSendQueueBytes: number;
  readonly keepAliveIdleMs: number;
  readonly shutdownGraceMs: number;
}

/** What the entrance reports of the connections, for a log. */
export type EntranceEvent =
  /** `tls` says it is encrypted; `door` is there for the SSH door, whose log line names it. */
  | { readonly kind: 'connect'; readonly id: UserId; readonly from: string; readonly tls: boolean; readonly door?: 'ssh' }
  | { readonly kind: 'handshake-failed'; readonly from: string; readonly reason: string }
  | { readonly kind: 'disconnect'; readonly id: UserId; readonly reason: DisconnectReason; readonly error: string | undefined }
  | { readonly kind: RefusalReason; readonly from: string };

/** What the entrance needs of the server that owns it. */
export interface EntranceWiring {
  /** Where a connection's output goes: attached at its entry, detached at its close. */
  readonly fanout: Fanout;
  /** The id of the next connection to enter. */
  readonly newId: () => UserId;
  /** Hands an entered connection to the chat. */
  readonly join: (connection: Connection) => void;
  readonly report: (event: EntranceEvent) => void;
}

/** The doors' common entrance: every connection is counted, admitted or refused, and kept here until it closes. */
export interface Entrance {
  /** A TCP connection on any door, before anything is read from it: true lets it on (into its
   * handshake, on a door that has one); false when it was refused and is being closed. */
  arrived(raw: Socket, door: DoorKind): boolean;
  /** A plain or TLS socket, its arrival counted, into the chat. */
  accept(socket: Socket, secure: boolean): void;
  /** A connection through any door, its arrival counted (`arrived`), into the chat. Telnet is
   * answered on the TCP and TLS doors alone: the others carry no telnet. */
  enter(connection: DoorConnection, telnet?: TelnetAnswerer): void;
  /** A TLS handshake that failed: `raw` has closed, `error` says why (null: the peer closed). */
  handshakeFailed(raw: Socket, error: Error | null): void;
  /** The TCP sockets of the connections in the chat now: the figures read their bytes. */
  sockets(): Socket[];
  /** The connection counts the figures read. */
  readonly tally: ConnectionTally;
  /** From now on a close is the shutdown's; resolves once every connection in now has closed. */
  shutDown(): Promise<void>;
  /** Tells every connection the server is going, after what it was sent, and cuts it off after its grace. */
  farewellAll(): void;
  /** True once `shutDown` was called. */
  readonly shuttingDown: boolean;
}

const errorOf = (err: Error | null): string | undefined => {
  if (err === null) return undefined;
  return 'code' in err && typeof err.code === 'string' ? err.code : err.message;
};

/** Every socket's first 'error' listener, never removed: a late reset must not crash chatd. The
 * error itself is read from `socket.errored` when the socket closes. One function for all sockets,
 * since each listener is held for a connection's whole stay. */
const ignoreError = (): void => {};

/** The entrance of one server, for its doors: the plain and TLS listeners, and any other door. */
export function entrance(options: EntranceOptions, { fanout, newId, join, report }: EntranceWiring): Entrance {
  const streams = new Map<Duplex, UserId>(); // each connection's stream, with its user's id
  const raws = new WeakMap<Duplex, Socket>(); // a door's stream's TCP socket, where the stream is not the socket itself
  const tally = new ConnectionTally();
  const admission = new Admission(options, () => performance.now());
  const refusalTexts: Readonly<Record<AdmissionRefusal, string>> = {
    full: SERVER_FULL, per_address: tooManyConnections(options.maxConnectionsPerAddress), connect_rate: CONNECTING_TOO_FAST,
  };
  let refusalsClosing = 0;
  let shuttingDown = false;

  /** The TCP socket under a connection's stream. */
  const rawOf = (stream: Duplex): Socket | undefined => (stream instanceof Socket ? stream : raws.get(stream));

  /** Every connection's bookkeeping at its close, `this` being its stream: one function for all
   * connections, where a closure for each would be held for each user's whole stay. */
  function closed(this: Duplex): void {
    const id = streams.get(this);
    streams.delete(this);
    if (id === undefined) return;
    const reason = disconnectReason(this.errored, fanout.detach(id), shuttingDown);
    tally.closed(rawOf(this), reason);
    report({ kind: 'disconnect', id, reason, error: errorOf(this.errored) });
  }

  /** An admitted connection's close, `this` being its TCP socket: its place is free again. Its
   * peer was read at its arrival, and a socket keeps what it read once closed. */
  function released(this: Socket): void {
    admission.release(peerAddress(this));
  }

  /** A plain socket's one 'close' listener: a listener more per socket is memory per idle user. */
  function plainClosed(this: Socket): void {
    released.call(this);
    closed.call(this);
  }

  /** A refused connection's close: one fewer held open while its peer reads why. */
  function refusalClosed(): void {
    refusalsClosing -= 1;
  }

  /**
   * A TCP connection on any door, counted from now on (a TLS or SSH handshake, an HTTP upgrade
   * included), or refused: told why on the plain door, cut off on the others, whose clients could
   * not read a line before their handshake, which refusing spares us.
   */
  const arrived = (raw: Socket, door: DoorKind): boolean => {
    raw.on('error', ignoreError);
    if (raw.remoteAddress === undefined) { // gone before we got to it
      raw.destroy();
      return false;
    }
    const refused = admission.admit(peerAddress(raw));
    if (refused === undefined) {
      if (door !== 'tcp') raw.once('close', released); // a handshake may fail: its connection never reaches the chat
      return true;
    }
    tally.refusedOne(refused.reason);
    if (refused.first) report({ kind: refused.reason, from: peerName(raw) }); // a flood's refusals are counted, not each logged
    if (door !== 'tcp' || refusalsClosing >= MAX_REFUSALS_CLOSING) {
      raw.destroy();
      return false;
    }
    refusalsClosing += 1;
    raw.once('close', refusalClosed);
    farewell(raw, options.shutdownGraceMs, refusalTexts[refused.reason]);
    return false;
  };

  /** Writes a telnet answer at once, past the chat's batches (a client waiting on one shows
   * nothing until it comes), unless the socket is gone or as far behind as the fanout allows. */
  const answerTelnet = (socket: Readable, command: Buffer) => {
    if (!(socket instanceof Socket) || !socket.writable) return;
    if (socket.writableLength > options.maxSendQueueBytes) socket.destroy(new SendQueueFullError(options.maxSendQueueBytes));
    else socket.write(command);
  };

  const accept = (socket: Socket, secure: boolean) => {
    const door: DoorKind = secure ? 'tls' : 'tcp';
    enter({ stream: socket, raw: socket, door, secure, from: peerAddress(socket), peer: peerName(socket) }, answerTelnet);
  };

  const enter = (connection: DoorConnection, telnet?: TelnetAnswerer) => {
    const { stream, raw, door, secure, from, peer, keys } = connection;
    // Its 'error' listener is in already: added at its arrival (plain), or by its door.
    stream.on('close', door === 'tcp' ? plainClosed : closed);
    if (stream !== raw) raws.set(stream, raw);
    const id = newId();
    streams.set(stream, id);
    raw.setNoDelay(true); // writes are coalesced per event-loop turn; Nagle would add latency
    raw.setKeepAlive(true, options.keepAliveIdleMs);
    tally.acceptedOne();
    fanout.attach(id, stream, concealOf(connection, telnet !== undefined));
    report({ kind: 'connect', id, from: peer, tls: secure, ...(door === 'ssh' ? { door } : {}) });
    const input$ = socketLines(stream, options.maxLineBytes, options.maxLoginBytes, telnet);
    join({ id, input$, secure, from, ...(keys === undefined || keys.length === 0 ? {} : { keys }) });
  };

  const handshakeFailed = (raw: Socket, error: Error | null) => {
    tally.handshakeFailed();
    report({ kind: 'handshake-failed', from: peerName(raw), reason: errorOf(error) ?? 'closed' });
  };

  const shutDown = async (): Promise<void> => {
    // The server's 'close' can come before the last socket's 'close' listeners have run.
    const allClosed = [...streams.keys()].map((stream) => new Promise((resolve) => stream.once('close', resolve)));
    shuttingDown = true;
    await Promise.all(allClosed);
  };

  // The notice ends each socket's output, so no chat line can follow it; a socket already
  // closing (timed out, say) keeps its own farewell and deadline.
  const farewellAll = () => {
    for (const stream of streams.keys()) farewell(stream, options.shutdownGraceMs, fanout.atPrompt(stream) ? besidePrompt(SHUTTING_DOWN) : SHUTTING_DOWN);
  };

  return {
    arrived, accept, enter, handshakeFailed, tally, shutDown, farewellAll,
    sockets: () => [...streams.keys()].flatMap((stream) => rawOf(stream) ?? []),
    get shuttingDown() { return shuttingDown; },
  };
}
