import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerOptions } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { type DoorConnection, peerName } from '../door';
import { loadPair, TLS_SETTINGS, TlsFilesError, type TlsSettings } from '../listeners';
import { type Client, TrustedProxies } from './proxy';
import { loadPage, type Page, servePage } from './page';
import { originAllowed } from './origin';
import { PAGE_PROTOCOL, WebStream } from './stream';

/** The path of the WebSocket; the page is at `/`. */
export const CHAT_PATH = '/chat';
/** Default time between pings; a connection that has not answered the last one by the next is dropped. */
export const PING_INTERVAL_MS = 30_000;
/** The most bytes of a request's line and headers together (Node's default is 16 KiB). */
export const MAX_HEADER_BYTES = 8 * 1024;
/** Default time a request, headers included, may take to arrive; the login timeout bounds it too. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** How long an HTTP connection with no request under way stays open for the next one. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** The longest WebSocket message taken, past the line limit: a message may hold several lines (a
 * paste). A longer one closes the connection with 1009; a line over the limit inside a shorter
 * one gets the chat's own reply, as over TCP. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
/** The smallest average piece a message may come in: frames of one message, or reads of one
 * frame. ws keeps each piece as a Buffer of its own, some hundred bytes besides its payload, so a
 * message sent a byte at a time would cost chatd many times what it cost its sender; a browser
 * sends a message as one frame, read in pieces of a TCP segment or a TLS record. More pieces
 * than the longest message allows at this size close the connection with 1008. */
export const MIN_PIECE_BYTES = 64;

/** Why a connection was dropped: it did not answer a ping before the next. */
export class NoPongError extends Error {
  readonly code = 'CHAT_WEB_NO_PONG';
  constructor() {
    super('no answer to a ping');
  }
}

/** What the browser door serves: HTTP, HTTPS or both, and whom it believes. */
export interface WebSettings {
  /** The HTTP port, or undefined for none. */
  readonly port: number | undefined;
  /** The HTTPS port and its certificate and key, or undefined for none. */
  readonly tls: TlsSettings | undefined;
  /** Origins besides the page's own whose pages may open the WebSocket (`https://example.org`). */
  readonly origins: readonly string[];
  /** Reverse proxies (addresses, CIDR blocks) whose X-Forwarded-For and X-Forwarded-Proto are believed. */
  readonly trustProxy: readonly string[];
  readonly pingIntervalMs: number;
}

export const DEFAULT_WEB_SETTINGS: WebSettings = { port: undefined, tls: undefined, origins: [], trustProxy: [], pingIntervalMs: PING_INTERVAL_MS };

export interface WebDoorOptions {
  readonly host: string | undefined;
  readonly web: WebSettings;
  readonly maxLineBytes: number;
  /** How long a request, or a TLS handshake, may take. */
  readonly requestTimeoutMs: number;
}

/** What the door tells its owner. */
export interface WebHandlers {
  /** A TCP connection, before anything is read from it: true lets it on; false when the owner has refused and closed it. */
  readonly arrived: (raw: Socket, door: 'web') => boolean;
  /** A WebSocket, its upgrade done, as a door's connection into the chat. */
  readonly enter: (connection: DoorConnection) => void;
  /** A listener's own error; it keeps listening. */
  readonly error: (error: Error) => void;
}

/** The browser door: the page and its WebSocket, over HTTP and HTTPS. */
export interface WebDoor {
  /** Reads the page, binds each listener; rejects on a bind error, unusable TLS files or a missing page, with nothing left bound. */
  listen(): Promise<void>;
  httpAddress(): AddressInfo | null;
  httpsAddress(): AddressInfo | null;
  /** Reads the TLS files again for new connections; rejects with TlsFilesError, keeping the old pair. */
  reloadTls(): Promise<void>;
  /** Stops accepting; resolves once the listeners have closed, which waits for the WebSockets to close too. */
  close(): Promise<void>;
  readonly listening: boolean;
}

/** Every stream's 'error' listener: the stream's 'close' reads `errored`. */
const ignoreError = (): void => {};

const addressOf = (server: Server | undefined): AddressInfo | null => {
  const address = server?.address();
  return address === undefined || address === null || typeof address === 'string' ? null : address;
};

/** Answers an upgrade that is not taken with `status`, and closes once it is written. */
function refuseUpgrade(socket: Duplex, status: number, reason: string): void {
  socket.write(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${reason.length + 1}\r\n\r\n${reason}\n`);
  socket.end();
  socket.once('finish', () => socket.destroy());
}

/**
 * The page at `/` and a WebSocket at CHAT_PATH, on an HTTP listener, an HTTPS one, or both. Each
 * TCP connection goes to `handlers.arrived` at accept, before a request or a TLS handshake costs
 * anything; a WebSocket whose origin is allowed goes to `handlers.enter` as a WebStream. Pings
 * every `pingIntervalMs` find dead peers.
 */
export function webDoor(options: WebDoorOptions, handlers: WebHandlers): WebDoor {
  const { web } = options;
  const proxies = new TrustedProxies(web.trustProxy);
  const maxPayload = Math.max(MAX_MESSAGE_BYTES, options.maxLineBytes + 2);
  const maxPieces = Math.ceil(maxPayload / MIN_PIECE_BYTES);
  const wss = new WebSocketServer({
    noServer: true, clientTracking: false, perMessageDeflate: false, maxPayload, maxFragments: maxPieces, maxBufferedChunks: maxPieces,
    handleProtocols: (protocols: Set<string>) => (protocols.has(PAGE_PROTOCOL) ? PAGE_PROTOCOL : false),
  });
  const live = new Set<WebStream>();
  let page: Page = new Map();
  let http: Server | undefined;
  let https: HttpsServer | undefined;
  let pings: NodeJS.Timeout | undefined;

  function forget(this: WebStream): void {
    live.delete(this);
  }

  const connected = (ws: WebSocket, socket: Socket, client: Client) => {
    const stream = new WebStream(ws, socket);
    stream.on('error', ignoreError).on('close', forget); // not once(): its wrapper would be a closure per user; 'close' comes once
    live.add(stream);
    const peer = client.forwarded ? `${client.from} via ${peerName(socket)}` : peerName(socket);
    handlers.enter({ stream, raw: socket, door: 'web', secure: client.secure, from: client.from, peer, conceal: (hidden) => stream.conceal(hidden) });
  };

  const upgrade = (encrypted: boolean) => (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!(socket instanceof Socket)) return socket.destroy();
    if ((request.url ?? '').split('?')[0] !== CHAT_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    const client = proxies.client(request, socket.remoteAddress ?? 'unknown', encrypted);
    if (!originAllowed(request, client.secure, web.origins)) return refuseUpgrade(socket, 403, 'Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => connected(ws, socket, client));
  };

  const httpOptions: ServerOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    headersTimeout: options.requestTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    // Timeouts are looked at this often: a tenth of them, so a slow request goes at most 10 % late.
    connectionsCheckingInterval: Math.max(10, Math.min(1000, options.requestTimeoutMs / 10)),
    requireHostHeader: true,
  };

  const equip = <T extends Server>(server: T, encrypted: boolean): T => {
    server.on('connection', (raw: Socket) => handlers.arrived(raw, 'web'));
    server.on('upgrade', upgrade(encrypted));
    return server;
  };

  const bind = async (server: Server, port: number): Promise<void> => {
    server.listen({ port, host: options.host });
    await once(server, 'listening'); // rejects with the bind error (EADDRINUSE, EACCES)
    server.on('error', handlers.error);
  };

  const sweep = () => {
    for (const stream of live) {
      if (!stream.alive) stream.destroy(new NoPongError());
      else {
        stream.alive = false;
        stream.ws.ping();
      }
    }
  };

  const servers = (): Server[] => [http, https].filter((server) => server !== undefined);

  const listen = async (): Promise<void> => {
    page = await loadPage();
    const onRequest = (request: IncomingMessage, response: Parameters<typeof servePage>[2]) => servePage(page, request, response);
    if (web.port !== undefined) http = equip(createHttpServer(httpOptions, onRequest), false);
    if (web.tls !== undefined) {
      const { cert, key } = await loadPair(web.tls);
      https = equip(createHttpsServer({ ...httpOptions, cert, key, ...TLS_SETTINGS, handshakeTimeout: options.requestTimeoutMs }, onRequest), true);
    }
    try {
      if (http !== undefined && web.port !== undefined) await bind(http, web.port);
      if (https !== undefined && web.tls !== undefined) await bind(https, web.tls.port);
    } catch (err) {
      for (const server of servers()) if (server.listening) server.close();
      throw err;
    }
    if (servers().length > 0) pings = setInterval(sweep, web.pingIntervalMs).unref();
  };

  const reloadTls = async (): Promise<void> => {
    if (web.tls === undefined || https === undefined) throw new TlsFilesError('chatd serves no HTTPS');
    const { cert, key } = await loadPair(web.tls);
    https.setSecureContext({ cert, key, ...TLS_SETTINGS });
  };

  const close = async (): Promise<void> => {
    clearInterval(pings);
    const listening = servers().filter((server) => server.listening);
    const closed = listening.map((server) => once(server, 'close'));
    for (const server of listening) {
      server.close();
      server.closeAllConnections(); // requests under way; the WebSockets are the chat's to close
    }
    await Promise.all(closed);
  };

  return {
    listen,
    reloadTls,
    close,
    httpAddress: () => addressOf(http),
    httpsAddress: () => addressOf(https),
    get listening() {
      return servers().some((server) => server.listening);
    },
  };
}
