import type { Socket } from 'node:net';
import type { ConnectionId, Outgoing } from './room';

/** Default for the unread output a user may have queued before they are disconnected. */
export const MAX_SEND_QUEUE_BYTES = 1024 * 1024;

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
  /** Makes an accepted socket addressable by its id until it closes. */
  attach(id: ConnectionId, socket: Socket): void;
  /** Carries out one room output. */
  deliver(out: Outgoing): void;
  /** How many sockets are attached. */
  readonly size: number;
}

/**
 * Fan-out to this process's sockets. The broadcasts of one tick are joined and encoded once into
 * one Buffer that every socket shares; writes in one tick are corked and leave as one writev per
 * socket; a socket more than `maxSendQueueBytes` behind is destroyed, so one stuck reader costs
 * nobody else.
 */
export function localFanout(maxSendQueueBytes = MAX_SEND_QUEUE_BYTES): Fanout {
  const sockets = new Map<ConnectionId, Socket>();
  const audience = new Set<Socket>();
  const corked = new Set<Socket>();
  let broadcasts: string[] = [];
  let tickEnding = false;
  const write = (socket: Socket, chunk: Buffer | string) => {
    if (!socket.writable) return; // ended or destroyed: its 'close' is on the way
    if (socket.writableLength > maxSendQueueBytes) {
      socket.destroy(new SendQueueFullError(maxSendQueueBytes));
      return;
    }
    if (!corked.has(socket)) {
      socket.cork();
      corked.add(socket);
    }
    socket.write(chunk);
  };
  // Runs before anything addressed to one socket, so every socket sees the room's order.
  const writeBroadcasts = () => {
    if (broadcasts.length === 0) return;
    const chunk = Buffer.from(broadcasts.join(''));
    broadcasts = [];
    for (const socket of audience) write(socket, chunk);
  };
  const endTick = () => {
    tickEnding = false;
    writeBroadcasts();
    for (const socket of corked) socket.uncork();
    corked.clear();
  };
  const deliver = (out: Outgoing) => {
    if (!tickEnding) process.nextTick(endTick);
    tickEnding = true;
    if (out.kind === 'broadcast') {
      broadcasts.push(out.text);
      return;
    }
    writeBroadcasts();
    const socket = sockets.get(out.to);
    if (socket === undefined) return; // closed while the room's output was on its way
    if (out.kind === 'send') write(socket, out.text);
    else if (out.kind === 'admit') audience.add(socket);
    else if (out.kind === 'dismiss') audience.delete(socket);
    else socket.destroySoon(); // 'close': after what was written reaches the kernel
  };
  const attach = (id: ConnectionId, socket: Socket) => {
    sockets.set(id, socket);
    socket.once('close', () => {
      sockets.delete(id);
      audience.delete(socket);
      corked.delete(socket);
    });
  };
  return {
    attach,
    deliver,
    get size() {
      return sockets.size;
    },
  };
}
