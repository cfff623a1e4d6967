import type { Socket } from 'node:net';
import type { ConnectionId, Outgoing } from '../chat/room';

/** Default for the unread output a user may have queued before they are disconnected. */
export const MAX_SEND_QUEUE_BYTES = 1024 * 1024;

/**
 * A batch of broadcasts is joined into writes of at most this many bytes (a single longer line
 * is a write of its own). It bounds the Buffer one batch allocates, and how far past the send
 * queue limit a reader can be owed: the write that finds the limit passed cuts the reader off.
 */
export const MAX_WRITE_BYTES = 64 * 1024;

/**
 * Default for how long broadcasts may wait while users keep logging in. libuv accepts one
 * connection per turn of the event loop (libuv#3696), so in a login storm each turn admits one
 * user, and writing each turn's join notice to everyone made logging in N users cost N²/2 writes.
 * While every turn admits someone, the batch is held for the next one, up to this long.
 */
export const LOGIN_BATCH_MS = 10;

/** Why a reader was disconnected: more than the send queue limit unread. */
export class SendQueueFullError extends Error {
  readonly code = 'CHAT_SEND_QUEUE_FULL';
  constructor(limitBytes: number) {
    super(`more than ${limitBytes} bytes unread`);
  }
}

/**
 * The seam where the room's output leaves for sockets. A transport for several processes
 * replaces this and nothing else: the room only says who is admitted and what is broadcast.
 */
export interface Fanout {
  /** Makes an accepted socket addressable by its id. */
  attach(id: ConnectionId, socket: Socket): void;
  /** Forgets a socket once it has closed; nothing more is written to it. */
  detach(id: ConnectionId): void;
  /** Carries out one room output. */
  deliver(out: Outgoing): void;
  /** Writes the batch now rather than at the turn's end: before a shutdown notice, say. */
  flush(): void;
  /** How many sockets are attached. */
  readonly size: number;
}

/**
 * Fan-out to this process's sockets. The broadcasts of one turn of the event loop (every socket
 * that was readable in it) are joined and encoded once into one Buffer, written when the turn's
 * I/O is done to every socket in the audience: one write per socket per batch (per
 * MAX_WRITE_BYTES of it) however many lines it carried, and one allocation for all of them. A
 * turn that admitted a user holds its batch for the next turn, which may admit another, and so
 * on for at most `loginBatchMs` from the batch's first line. A socket more than
 * `maxSendQueueBytes` behind is destroyed, so one stuck reader costs nobody else.
 */
export function localFanout(maxSendQueueBytes = MAX_SEND_QUEUE_BYTES, loginBatchMs = LOGIN_BATCH_MS): Fanout {
  const sockets = new Map<ConnectionId, Socket>();
  const audience = new Set<Socket>();
  let pending: string[] = []; // the batch: broadcasts not yet written
  let pendingBytes = 0;
  let pendingSince = 0; // when the first of them came, by performance.now()
  let admittedThisTurn = false;
  // Sockets whose share of the batch is not all of it, by index into `pending`: admitted
  // mid-batch (they get what came after), dismissed mid-batch (what came before), or sent a
  // line of their own (what came before went out first).
  const firstOwed = new Map<Socket, number>();
  const lastOwed = new Map<Socket, number>();
  let endOfTurnQueued = false;
  const write = (socket: Socket, chunk: Buffer | string) => {
    if (!socket.writable) return; // ended or destroyed: its 'close' is on the way
    if (socket.writableLength > maxSendQueueBytes) socket.destroy(new SendQueueFullError(maxSendQueueBytes));
    else socket.write(chunk);
  };
  const byteOffsets = (texts: readonly string[]): number[] => {
    const offsets = [0];
    for (const text of texts) offsets.push((offsets[offsets.length - 1] ?? 0) + Buffer.byteLength(text));
    return offsets;
  };
  const writePending = () => {
    const texts = pending;
    pending = [];
    pendingBytes = 0;
    const shares = [...lastOwed].map(([socket, last]): [Socket, number, number] => [socket, firstOwed.get(socket) ?? 0, last]);
    lastOwed.clear();
    if (texts.length > 0) {
      const chunk = Buffer.from(texts.join(''));
      const offsets = firstOwed.size + shares.length > 0 ? byteOffsets(texts) : [];
      const slice = (first: number, last: number) => chunk.subarray(offsets[first], offsets[last]);
      for (const socket of audience) {
        const first = firstOwed.get(socket);
        if (first === undefined) write(socket, chunk);
        else if (first < texts.length) write(socket, slice(first, texts.length));
      }
      for (const [socket, first, last] of shares) if (first < last) write(socket, slice(first, last));
    }
    firstOwed.clear();
  };
  const endOfTurn = () => {
    const storming = admittedThisTurn && pending.length > 0 && performance.now() - pendingSince < loginBatchMs;
    admittedThisTurn = false;
    if (storming) setImmediate(endOfTurn); // the next turn may read the next user's name
    else {
      endOfTurnQueued = false;
      writePending();
    }
  };
  /** Writes what a member is owed of the batch so far, before a line of its own. */
  const settle = (socket: Socket) => {
    if (!audience.has(socket)) return;
    const first = firstOwed.get(socket) ?? 0;
    if (first < pending.length) write(socket, pending.slice(first).join(''));
    firstOwed.set(socket, pending.length);
  };
  const deliver = (out: Outgoing) => {
    // setImmediate runs once the poll phase has read every readable socket: lines from many
    // users share one write per receiver, where process.nextTick would flush after each socket.
    if (!endOfTurnQueued) setImmediate(endOfTurn);
    endOfTurnQueued = true;
    if (out.kind === 'broadcast') {
      const bytes = Buffer.byteLength(out.text);
      if (pendingBytes + bytes > MAX_WRITE_BYTES && pending.length > 0) writePending();
      if (pending.length === 0) pendingSince = performance.now();
      pending.push(out.text);
      pendingBytes += bytes;
      return;
    }
    const socket = sockets.get(out.to);
    if (socket === undefined) return; // closed while the room's output was on its way
    if (out.kind === 'send') {
      settle(socket);
      write(socket, out.text);
    } else if (out.kind === 'admit') {
      admittedThisTurn = true;
      audience.add(socket);
      firstOwed.set(socket, pending.length);
    } else if (out.kind === 'dismiss') {
      if (audience.delete(socket)) lastOwed.set(socket, pending.length);
    } else {
      socket.destroySoon(); // 'close': after what was written reaches the kernel
    }
  };
  const detach = (id: ConnectionId) => {
    const socket = sockets.get(id);
    if (socket === undefined) return;
    sockets.delete(id);
    audience.delete(socket);
    firstOwed.delete(socket);
    lastOwed.delete(socket);
  };
  return {
    attach: (id, socket) => {
      sockets.set(id, socket);
    },
    detach,
    deliver,
    flush: writePending,
    get size() {
      return sockets.size;
    },
  };
}
