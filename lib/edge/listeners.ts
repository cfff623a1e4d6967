import { constants } from 'node:crypto';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureVersion, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { errorText } from '../error-text';

/** The oldest TLS version a client may speak; older ones fail the handshake. */
export const MIN_TLS_VERSION: SecureVersion = 'TLSv1.2';

/** Default time a TLS handshake may take; the login timeout bounds it too. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

/** Every TLS context's settings but its certificate and key. A client may not renegotiate (TLS
 * 1.2; 1.3 has no renegotiation): each one is a handshake it can make us do again and again on
 * one connection, and a chat has no use for it. */
export const TLS_SETTINGS = { minVersion: MIN_TLS_VERSION, secureOptions: constants.SSL_OP_NO_RENEGOTIATION } as const;

/** Where the TLS listener listens, and the PEM files of its certificate (chain) and key. */
export interface TlsSettings {
  readonly port: number;
  readonly certFile: string;
  readonly keyFile: string;
}

/** A certificate or key that cannot be read or used; the message names the file or the fault. */
export class TlsFilesError extends Error {
  readonly code = 'CHAT_TLS_FILES';
}

/** What the listeners tell their owner. */
export interface ListenerHandlers {
  /** A TCP connection on either door, before anything is read from it: true lets it on (a TLS
   * one into its handshake); false when the owner has refused it and is closing it. The owner
   * adds the socket's 'error' listener here, first. */
  readonly arrived: (raw: Socket, door: 'tcp' | 'tls') => boolean;
  /** A connection ready for the chat: a plain one at once, a TLS one once its handshake is done
   * (with an 'error' listener of its own, which ends it on any error). */
  readonly accept: (socket: Socket, secure: boolean) => void;
  /** A TLS handshake failed, timed out or was given up by the peer: `raw`, its TCP socket, has
   * closed; `error` says why (null when the peer just closed). Not told of the handshakes that
   * close() cuts off. */
  readonly handshakeFailed: (raw: Socket, error: Error | null) => void;
  /** A listener's own error, such as EMFILE on accept; it keeps listening. */
  readonly error: (error: Error) => void;
}

export interface ListenerOptions {
  readonly host: string | undefined;
  /** The plain port, or 'off' to serve TLS only. */
  readonly port: number | 'off';
  readonly tls: TlsSettings | undefined;
  /** How long a TLS handshake may take before the connection is dropped. */
  readonly handshakeTimeoutMs: number;
}

/** The plain and TLS listeners of one chat, which feed one accept path. */
export interface Listeners {
  /** Binds each listener; rejects on a bind error or unusable TLS files, with nothing left bound. */
  listen(): Promise<void>;
  /** The plain listener's address, or null when it is off or not listening. */
  plainAddress(): AddressInfo | null;
  /** The TLS listener's address, or null when there is none or it is not listening. */
  tlsAddress(): AddressInfo | null;
  /** Reads the TLS files again for new connections; rejects with TlsFilesError, keeping the old pair. */
  reloadTls(): Promise<void>;
  /** TLS connections whose handshake is under way. */
  readonly handshakes: number;
  /** Stops accepting and drops unfinished handshakes; resolves once every listener has closed,
   * which waits for the accepted sockets to close too. */
  close(): Promise<void>;
  readonly listening: boolean;
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new TlsFilesError(`cannot read TLS ${what} ${file}: ${errorText(err)}`);
  }
}

/** The certificate and key of `settings`, checked by making a context of them: a bad file or a
 * key that does not match its certificate rejects. */
export async function loadPair(settings: TlsSettings): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readPem(settings.certFile, 'certificate'), readPem(settings.keyFile, 'key')]);
  try {
    createSecureContext({ cert, key, ...TLS_SETTINGS });
  } catch (err) {
    throw new TlsFilesError(`bad TLS certificate or key (${settings.certFile}, ${settings.keyFile}): ${errorText(err)}`);
  }
  return { cert, key };
}

const addressOf = (server: Server): AddressInfo | null => {
  const address = server.address();
  return address === null || typeof address === 'string' ? null : address;
};

const peerKey = (socket: Socket): string => `${socket.remoteAddress}:${socket.remotePort}`;

/** A secure socket's error listener: an error it emits without closing (a renegotiation refused
 * or attempted too often, whatever Node lets through) ends the connection, with the error. */
function endOnError(this: TLSSocket, error: Error): void {
  this.destroy(error);
}

/**
 * A plain `net` listener and a TLS one (TLS 1.2 at least, no renegotiation), either of which may
 * be absent. Each TCP connection goes to `handlers.arrived` first, on both doors, before a TLS
 * handshake costs anything; those let on go to `handlers.accept`, a TLS one after its handshake,
 * which `handshakeTimeoutMs` bounds; a failed handshake goes to `handlers.handshakeFailed`.
 */
export function listeners(options: ListenerOptions, handlers: ListenerHandlers): Listeners {
  const plainPort = options.port === 'off' ? undefined : options.port;
  // Half-open: a peer's end does not end our side, so what it is still owed (its own last
  // lines, batched for the turn's end) goes out before the chat closes the connection.
  const plain = plainPort === undefined ? undefined : createServer({ allowHalfOpen: true }, (raw) => {
    if (handlers.arrived(raw, 'tcp')) handlers.accept(raw, false);
  });
  // The TLS door is a TCP listener that hands what it lets on to a TLS server that never listens
  // itself (as `'connection'` events, the way Node injects sockets): so a connection is counted,
  // and may be refused, before a TLS session is made for it.
  let tcpForTls: Server | undefined;
  let tls: TlsServer | undefined;
  // Raw sockets of handshakes not yet done, by peer (unique per listener): counted for the
  // figures, reported if they close still in it, and dropped by close(), since a listener's
  // 'close' waits for every connection and a handshake may take its timeout.
  const handshaking = new Map<string, Socket>();
  const failures = new WeakMap<Socket, Error>(); // why a handshake failed, where the TLS socket said

  const handshake = (raw: Socket, tlsServer: TlsServer): void => {
    if (!handlers.arrived(raw, 'tls')) return;
    const key = peerKey(raw); // read now: once closed, a socket no longer knows its peer
    handshaking.set(key, raw);
    raw.once('close', () => {
      if (handshaking.get(key) !== raw) return; // done, or cut off by close()
      handshaking.delete(key);
      handlers.handshakeFailed(raw, failures.get(raw) ?? raw.errored);
    });
    tlsServer.emit('connection', raw);
  };

  const makeTlsServer = (cert: Buffer, key: Buffer): TlsServer => {
    const server = createTlsServer({ cert, key, ...TLS_SETTINGS, handshakeTimeout: options.handshakeTimeoutMs });
    server.on('secureConnection', (socket: TLSSocket) => {
      handshaking.delete(peerKey(socket));
      socket.allowHalfOpen = true; // as on the plain door, from now on
      socket.on('error', endOnError);
      handlers.accept(socket, true);
    });
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      // Its raw socket's close reports it, with this error where the TLS socket still knew its
      // peer; one gone before (a reset) has lost it, and is reported as closed.
      const raw = handshaking.get(peerKey(socket));
      if (raw !== undefined) failures.set(raw, error);
      socket.destroy(); // with a listener here, Node leaves a timed-out handshake's socket open
    });
    return server;
  };

  const bind = async (server: Server, port: number): Promise<void> => {
    server.listen({ port, host: options.host });
    await once(server, 'listening'); // rejects with the bind error (EADDRINUSE, EACCES)
    server.on('error', handlers.error); // accept errors (EMFILE) pass
  };

  const servers = (): Server[] => [plain, tcpForTls].filter((server) => server !== undefined);

  const listen = async (): Promise<void> => {
    if (options.tls !== undefined) {
      const { cert, key } = await loadPair(options.tls);
      const tlsServer = (tls = makeTlsServer(cert, key));
      // Not half-open while the handshake lasts: a peer that has ended can never finish it.
      tcpForTls = createServer({ allowHalfOpen: false }, (raw) => handshake(raw, tlsServer));
    }
    try {
      if (plain !== undefined && plainPort !== undefined) await bind(plain, plainPort);
      if (tcpForTls !== undefined && options.tls !== undefined) await bind(tcpForTls, options.tls.port);
    } catch (err) {
      for (const server of servers()) if (server.listening) server.close();
      throw err;
    }
  };

  const reloadTls = async (): Promise<void> => {
    if (options.tls === undefined || tls === undefined) throw new TlsFilesError('chatd serves no TLS');
    const { cert, key } = await loadPair(options.tls);
    tls.setSecureContext({ cert, key, ...TLS_SETTINGS }); // new handshakes only; sessions in progress keep theirs
  };

  const close = async (): Promise<void> => {
    const listening = servers().filter((server) => server.listening);
    const closed = listening.map((server) => once(server, 'close'));
    for (const server of listening) server.close();
    const unfinished = [...handshaking.values()];
    handshaking.clear(); // first: a handshake cut off by the shutdown is no failure to report
    for (const raw of unfinished) raw.destroy();
    await Promise.all(closed);
  };

  return {
    listen,
    reloadTls,
    close,
    plainAddress: () => (plain === undefined ? null : addressOf(plain)),
    tlsAddress: () => (tcpForTls === undefined ? null : addressOf(tcpForTls)),
    get handshakes() {
      return handshaking.size;
    },
    get listening() {
      return servers().some((server) => server.listening);
    },
  };
}
