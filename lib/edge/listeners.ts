import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureVersion, type Server as TlsServer, type TLSSocket } from 'node:tls';

/** The oldest TLS version a client may speak; older ones fail the handshake. */
export const MIN_TLS_VERSION: SecureVersion = 'TLSv1.2';

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
  /** A connection ready for the chat: a plain one at once, a TLS one once its handshake is done. */
  readonly accept: (socket: Socket, secure: boolean) => void;
  /** A TLS handshake failed or timed out; the socket is already being destroyed. */
  readonly handshakeFailed: (from: Socket, error: Error) => void;
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
  /** Stops accepting and drops unfinished handshakes; resolves once every listener has closed,
   * which waits for the accepted sockets to close too. */
  close(): Promise<void>;
  readonly listening: boolean;
}

async function readPem(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    throw new TlsFilesError(`cannot read TLS ${what} ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** The certificate and key of `settings`, checked by making a context of them: a bad file or a
 * key that does not match its certificate rejects. */
async function loadPair(settings: TlsSettings): Promise<{ cert: Buffer; key: Buffer }> {
  const [cert, key] = await Promise.all([readPem(settings.certFile, 'certificate'), readPem(settings.keyFile, 'key')]);
  try {
    createSecureContext({ cert, key, minVersion: MIN_TLS_VERSION });
  } catch (err) {
    throw new TlsFilesError(`bad TLS certificate or key (${settings.certFile}, ${settings.keyFile}): ${err instanceof Error ? err.message : String(err)}`);
  }
  return { cert, key };
}

const addressOf = (server: Server): AddressInfo | null => {
  const address = server.address();
  return address === null || typeof address === 'string' ? null : address;
};

const peerKey = (socket: Socket): string => `${socket.remoteAddress}:${socket.remotePort}`;

/**
 * A plain `net` listener and a TLS one (TLS 1.2 at least), either of which may be absent, both
 * handing their sockets to `handlers.accept`. A TLS socket is handed over after its handshake,
 * which `handshakeTimeoutMs` bounds; a failed handshake goes to `handlers.handshakeFailed`.
 */
export function listeners(options: ListenerOptions, handlers: ListenerHandlers): Listeners {
  const plainPort = options.port === 'off' ? undefined : options.port;
  // Half-open: a peer's end does not end our side, so what it is still owed (its own last
  // lines, batched for the turn's end) goes out before the chat closes the connection.
  const plain = plainPort === undefined ? undefined : createServer({ allowHalfOpen: true }, (socket) => handlers.accept(socket, false));
  let tls: TlsServer | undefined;
  // Raw sockets of handshakes not yet done, by peer (unique per listener): close() drops them,
  // since a listener's 'close' waits for every connection, and a handshake may take its timeout.
  const handshaking = new Map<string, Socket>();

  const makeTlsServer = (cert: Buffer, key: Buffer): TlsServer => {
    const server = createTlsServer({ cert, key, minVersion: MIN_TLS_VERSION, handshakeTimeout: options.handshakeTimeoutMs, allowHalfOpen: true });
    server.on('connection', (raw: Socket) => {
      raw.on('error', () => {}); // the TLS socket reports the error; a late reset must not crash chatd
      const key = peerKey(raw);
      handshaking.set(key, raw);
      raw.once('close', () => { if (handshaking.get(key) === raw) handshaking.delete(key); });
    });
    server.on('secureConnection', (socket: TLSSocket) => {
      handshaking.delete(peerKey(socket));
      handlers.accept(socket, true);
    });
    server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      socket.destroy(); // with a listener here, Node leaves a timed-out handshake's socket open
      handlers.handshakeFailed(socket, error);
    });
    return server;
  };

  const bind = async (server: Server, port: number): Promise<void> => {
    server.listen({ port, host: options.host });
    await once(server, 'listening'); // rejects with the bind error (EADDRINUSE, EACCES)
    server.on('error', handlers.error); // accept errors (EMFILE) pass
  };

  const servers = (): Server[] => [plain, tls].filter((server) => server !== undefined);

  const listen = async (): Promise<void> => {
    if (options.tls !== undefined) {
      const { cert, key } = await loadPair(options.tls);
      tls = makeTlsServer(cert, key);
    }
    try {
      if (plain !== undefined && plainPort !== undefined) await bind(plain, plainPort);
      if (tls !== undefined && options.tls !== undefined) await bind(tls, options.tls.port);
    } catch (err) {
      for (const server of servers()) if (server.listening) server.close();
      throw err;
    }
  };

  const reloadTls = async (): Promise<void> => {
    if (options.tls === undefined || tls === undefined) throw new TlsFilesError('chatd serves no TLS');
    const { cert, key } = await loadPair(options.tls);
    tls.setSecureContext({ cert, key, minVersion: MIN_TLS_VERSION }); // new handshakes only; sessions in progress keep theirs
  };

  const close = async (): Promise<void> => {
    const listening = servers().filter((server) => server.listening);
    const closed = listening.map((server) => once(server, 'close'));
    for (const server of listening) server.close();
    for (const raw of handshaking.values()) raw.destroy();
    handshaking.clear();
    await Promise.all(closed);
  };

  return {
    listen,
    reloadTls,
    close,
    plainAddress: () => (plain === undefined ? null : addressOf(plain)),
    tlsAddress: () => (tls === undefined ? null : addressOf(tls)),
    get listening() {
      return servers().some((server) => server.listening);
    },
  };
}
