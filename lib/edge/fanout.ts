import type { Duplex } from 'node:stream';
import type { UserId } from '../chat/events';
import type { CloseReason, Outgoing } from '../chat/outgoing';
import { FAREWELL_GRACE_MS, farewell } from './farewell';

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

/** A door's way to hide what the user of `socket` types next (a password) or show it again: one
 * function for all of a door's connections, where a closure for each would be held for each
 * user's whole stay. */
export type Conceal = (socket: Duplex, hidden: boolean) => void;

/** Why a reader was disconnected: more than the send queue limit unread. */
export class SendQueueFullError extends Error {
  readonly code = 'CHAT_SEND_QUEUE_FULL';
  constructor(limitBytes: number) {
    super(`more than ${limitBytes} bytes unread`);
  }
}

/**
 * The seam where the chat's output leaves for this process's sockets: the chat only says who
 * is in which room and what each room and user is sent.
 */
export interface Fanout {
  /** Makes an accepted socket addressable by its id; `conceal` is its door's, where the door can
   * hide what its user types. */
  attach(id: UserId, socket: Duplex, conceal?: Conceal): void;
  /** Forgets a socket once it has closed; nothing more is written to it. Returns why the chat
   * closed it, or undefined when the chat did not. */
  detach(id: UserId): CloseReason | undefined;
  /** Carries out one chat output; output for an id not attached here is for another node. */
  deliver(out: Outgoing): void;
  /** Writes the batches now rather than at the turn's end: before a shutdown notice, say. */
  flush(): void;
  /** True when the last text sent to the socket alone ended without a newline, as a prompt does:
   * a notice that comes unprompted starts a line of its own. */
  atPrompt(socket: Duplex): boolean;
  /** How many sockets are attached. */
  readonly size: number;
  /** Texts written to sockets so far: a broadcast line counts once per socket it reached. */
  readonly linesWritten: number;
}

/** A socket, the room whose broadcasts it gets, and the one it left while a batch was held. */
interface Member {
  readonly socket: Duplex;
  readonly conceal: Conceal | undefined;
  room: RoomBatch | undefined;
  left: RoomBatch | undefined;
}

/** One room's audience and the broadcasts to it not yet written. */
interface RoomBatch {
  readonly audience: Set<Duplex>;
  pending: string[];
  pendingBytes: number;
  // Sockets whose share of the batch is not all of it, by index into `pending`: entered
  // mid-batch (they get what came after), exited mid-batch (what came before), sent a line of
  // their own or hidden from one (what came before went out first).
  readonly firstOwed: Map<Duplex, number>;
  readonly lastOwed: Map<Duplex, number>;
}

const newBatch = (): RoomBatch => ({ audience: new Set(), pending: [], pendingBytes: 0, firstOwed: new Map(), lastOwed: new Map() });

function byteOffsets(texts: readonly string[]): number[] {
  const offsets = [0];
  for (const text of texts) offsets.push((offsets[offsets.length - 1] ?? 0) + Buffer.byteLength(text));
  return offsets;
}

/**
 * Fan-out to this process's sockets, one audience per room. The broadcasts of one turn of the
 * event loop (every socket that was readable in it) to one room are joined and encoded once into
 * one Buffer, written when the turn's I/O is done to everyone in the room who sees them: one
 * write per socket per batch (per MAX_WRITE_BYTES of it) however many lines it carried. A
 * socket a line is hidden from (its reader ignores the sender) gets the parts around it. A turn
 * that admitted a user holds its batches for the next turn, which may admit another, and so on
 * for at most `loginBatchMs` from the first line held. A `conceal` is carried out in its place
 * among the texts to its socket, through its door's function. A socket more than
 * `maxSendQueueBytes` behind is destroyed, so one stuck reader costs nobody else. A `close` is a farewell: the
 * socket is half-closed after what was written to it and given `graceMs` to read it and close.
 */
export function localFanout(
  maxSendQueueBytes = MAX_SEND_QUEUE_BYTES,
  loginBatchMs = LOGIN_BATCH_MS,
  graceMs = FAREWELL_GRACE_MS,
): Fanout {
  const members = new Map<UserId, Member>();
  const rooms = new Map<string, RoomBatch>();
  let held = false; // some batch has lines not yet written
  let heldSince = 0; // when the first of them came, by performance.now()
  let admittedThisTurn = false;
  let endOfTurnQueued = false;
  let linesWritten = 0;
  const closing = new Map<UserId, CloseReason>(); // sockets the chat closed, until they have
  const prompted = new WeakSet<Duplex>(); // sent a prompt last: only before login, since only sends are prompts
  /** Writes `chunk`, which holds `lines` texts, unless the socket is gone or too far behind. */
  const write = (socket: Duplex, chunk: Buffer | string, lines: number) => {
    if (!socket.writable) return; // ended or destroyed: its 'close' is on the way
    // No last line for a reader this far behind: it would wait behind all it has not read, and
    // the point is to free that memory now.
    if (socket.writableLength > maxSendQueueBytes) socket.destroy(new SendQueueFullError(maxSendQueueBytes));
    else {
      socket.write(chunk);
      linesWritten += lines;
    }
  };
  const writeBatch = (batch: RoomBatch) => {
    const texts = batch.pending;
    batch.pending = [];
    batch.pendingBytes = 0;
    const { firstOwed, lastOwed, audience } = batch;
    if (texts.length > 0) {
      const chunk = Buffer.from(texts.join(''));
      const offsets = firstOwed.size + lastOwed.size > 0 ? byteOffsets(texts) : [];
      const slice = (first: number, last: number) => chunk.subarray(offsets[first], offsets[last]);
      for (const socket of audience) {
        const first = firstOwed.get(socket);
        if (first === undefined) write(socket, chunk, texts.length);
        else if (first < texts.length) write(socket, slice(first, texts.length), texts.length - first);
      }
      for (const [socket, last] of lastOwed) {
        const first = firstOwed.get(socket) ?? 0;
        if (first < last) write(socket, slice(first, last), last - first);
      }
    }
    firstOwed.clear();
    lastOwed.clear();
  };
  const flush = () => {
    held = false;
    for (const [name, batch] of rooms) {
      writeBatch(batch);
      if (batch.audience.size === 0) rooms.delete(name);
    }
  };
  const endOfTurn = () => {
    const storming = admittedThisTurn && held && performance.now() - heldSince < loginBatchMs;
    admittedThisTurn = false;
    if (storming) setImmediate(endOfTurn); // the next turn may read the next user's name
    else {
      endOfTurnQueued = false;
      flush();
    }
  };
  /** Writes what a socket is owed of its room's batch so far, before a line it does not share. */
  const settle = (socket: Duplex, batch: RoomBatch | undefined) => {
    if (batch === undefined || !batch.audience.has(socket)) return;
    const first = batch.firstOwed.get(socket) ?? 0;
    if (first < batch.pending.length) write(socket, batch.pending.slice(first).join(''), batch.pending.length - first);
    batch.firstOwed.set(socket, batch.pending.length);
  };
  /** Writes what a socket that left a room mid-batch is owed of it, before it hears another room. */
  const settleExited = (member: Member) => {
    const batch = member.left;
    if (batch === undefined) return;
    member.left = undefined;
    const { socket } = member;
    const last = batch.lastOwed.get(socket);
    if (last === undefined) return; // the batch was written since
    const first = batch.firstOwed.get(socket) ?? 0;
    if (first < last) write(socket, batch.pending.slice(first, last).join(''), last - first);
    batch.lastOwed.delete(socket);
    batch.firstOwed.delete(socket);
  };
  const broadcast = (room: string, text: string, hiddenFrom: readonly UserId[]) => {
    const batch = rooms.get(room);
    if (batch === undefined) return; // nobody on this node is in it
    const bytes = Buffer.byteLength(text);
    if (batch.pendingBytes + bytes > MAX_WRITE_BYTES && batch.pending.length > 0) writeBatch(batch);
    if (!held) heldSince = performance.now();
    held = true;
    const hidden = hiddenFrom.flatMap((id) => members.get(id)?.socket ?? []).filter((socket) => batch.audience.has(socket));
    for (const socket of hidden) settle(socket, batch);
    batch.pending.push(text);
    batch.pendingBytes += bytes;
    for (const socket of hidden) batch.firstOwed.set(socket, batch.pending.length);
  };
  const enter = (member: Member, room: string) => {
    admittedThisTurn = true;
    exit(member);
    settleExited(member);
    const batch = rooms.get(room) ?? newBatch();
    rooms.set(room, batch);
    batch.audience.add(member.socket);
    batch.firstOwed.set(member.socket, batch.pending.length);
    member.room = batch;
  };
  const exit = (member: Member) => {
    const batch = member.room;
    if (batch === undefined) return;
    member.room = undefined;
    settleExited(member); // a second move in one batch: the first room's share goes out now
    if (batch.audience.delete(member.socket)) batch.lastOwed.set(member.socket, batch.pending.length);
    member.left = batch;
  };
  const deliver = (out: Outgoing) => {
    // setImmediate runs once the poll phase has read every readable socket: lines from many
    // users share one write per receiver, where process.nextTick would flush after each socket.
    if (!endOfTurnQueued) setImmediate(endOfTurn);
    endOfTurnQueued = true;
    if (out.kind === 'broadcast') return broadcast(out.room, out.text, out.hiddenFrom);
    const member = members.get(out.to);
    if (member === undefined) return; // closed while the chat's output was on its way, or another node's
    if (out.kind === 'send') {
      settleExited(member);
      settle(member.socket, member.room);
      write(member.socket, out.text, 1);
      if (out.text.endsWith('\n')) prompted.delete(member.socket);
      else prompted.add(member.socket);
    } else if (out.kind === 'enter') enter(member, out.room);
    else if (out.kind === 'exit') exit(member);
    else if (out.kind === 'conceal') {
      settleExited(member);
      settle(member.socket, member.room);
      member.conceal?.(member.socket, out.hidden);
    } else {
      if (!closing.has(out.to)) closing.set(out.to, out.reason); // the first reason: a kick, not the end it caused
      settleExited(member); // what it is owed of the held batches goes before the end
      settle(member.socket, member.room);
      farewell(member.socket, graceMs);
    }
  };
  const detach = (id: UserId) => {
    const member = members.get(id);
    if (member === undefined) return undefined;
    members.delete(id);
    const reason = closing.get(id);
    closing.delete(id);
    for (const batch of [member.room, member.left]) {
      batch?.audience.delete(member.socket);
      batch?.firstOwed.delete(member.socket);
      batch?.lastOwed.delete(member.socket);
    }
    return reason;
  };
  return {
    attach: (id, socket, conceal) => {
      members.set(id, { socket, conceal, room: undefined, left: undefined });
    },
    detach,
    deliver,
    flush,
    atPrompt: (socket) => prompted.has(socket),
    get size() {
      return members.size;
    },
    get linesWritten() {
      return linesWritten;
    },
  };
}
