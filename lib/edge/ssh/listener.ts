import { once } from 'node:events';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { type Connection, type ClientInfo, Server as SshServer } from 'ssh2';
import type { DoorConnection } from '../door';
import { serveConnection } from './connection';

/** What the SSH listener tells its owner. */
export interface SshListenerHandlers {
  /** A TCP connection, before its handshake: true lets it on; false when the owner has refused it and is closing it. */
  readonly arrived: (raw: Socket, door: 'ssh') => boolean;
  /** A user with a shell, into the chat. */
  readonly enter: (connection: DoorConnection) => void;
  /** A connection closed or dropped (login timeout) before it had a shell; `error` says why, null when its peer just closed. */
  readonly handshakeFailed: (raw: Socket, error: Error | null) => void;
  /** A request refused (exec, sftp, a forwarding, a second session). */
  readonly refused: (from: string, request: string) => void;
  /** The listener's own error, such as EMFILE on accept; it keeps listening. */
  readonly error: (error: Error) => void;
}

export interface SshListenerOptions {
  readonly host: string | undefined;
  readonly port: number;
  /** The host key (OpenSSH or PEM private key). */
  readonly hostKey: Buffer | string;
  /** How long a connection may take from accept to its shell (handshake, authentication, session). */
  readonly handshakeTimeoutMs: number;
  readonly maxLineBytes: number;
}

/** The SSH door's listener. */
export interface SshListener {
  /** Binds; rejects on a bind error, with nothing bound. */
  listen(): Promise<void>;
  address(): AddressInfo | null;
  /** Serves new connections with `hostKey`; those under way keep theirs. Throws on a key ssh2 cannot use. */
  useHostKey(hostKey: Buffer | string): void;
  /** Connections between accept and their shell. */
  readonly handshakes: number;
  /** Stops accepting and drops unfinished handshakes; resolves once the listener has closed, which waits for its connections. */
  close(): Promise<void>;
  readonly listening: boolean;
}

/** Why a connection was dropped before its shell. */
export class SshLoginTimeoutError extends Error {
  readonly code = 'CHAT_SSH_LOGIN_TIMEOUT';
}

const peerKey = (ip: string | undefined, port: number | undefined): string => `${ip}:${port}`;

/** A connection between accept and its shell. */
interface Handshake {
  readonly raw: Socket;
  readonly timer: NodeJS.Timeout;
}

/**
 * A TCP listener whose connections go to `handlers.arrived` first (counted, or refused before
 * any SSH costs anything), then into an ssh2 server that never listens itself. A connection must
 * reach its shell within `handshakeTimeoutMs` or is dropped; bytes before it are bounded by
 * ssh2 (its version lines, its packet size), and its time by this.
 */
export function sshListener(options: SshListenerOptions, handlers: SshListenerHandlers): SshListener {
  const handshaking = new Map<string, Handshake>(); // by peer, unique per listener
  const failures = new WeakMap<Socket, Error>();

  const entered = (raw: Socket, key: string) => (connection: DoorConnection) => {
    const handshake = handshaking.get(key);
    if (handshake?.raw !== raw) return; // timed out or cut off meanwhile
    clearTimeout(handshake.timer);
    handshaking.delete(key);
    handlers.enter(connection);
  };

  const makeServer = (hostKey: Buffer | string): SshServer =>
    new SshServer({ hostKeys: [hostKey] }, (client: Connection, info: ClientInfo) => {
      const key = peerKey(info.ip, info.port);
      const raw = handshaking.get(key)?.raw;
      if (raw === undefined) return;
      client.on('error', (error: Error) => failures.set(raw, error));
      serveConnection(client, raw, options, { enter: entered(raw, key), refused: handlers.refused });
    });
  let ssh = makeServer(options.hostKey);

  const tcp = createServer({ allowHalfOpen: false }, (raw) => {
    if (!handlers.arrived(raw, 'ssh')) return;
    const key = peerKey(raw.remoteAddress, raw.remotePort); // read now: once closed, a socket no longer knows its peer
    const timer = setTimeout(() => {
      failures.set(raw, new SshLoginTimeoutError('no shell within the login timeout'));
      raw.destroy();
    }, options.handshakeTimeoutMs);
    handshaking.set(key, { raw, timer });
    raw.once('close', () => {
      clearTimeout(timer);
      if (handshaking.get(key)?.raw !== raw) return; // in the chat, or cut off by close()
      handshaking.delete(key);
      handlers.handshakeFailed(raw, failures.get(raw) ?? raw.errored);
    });
    ssh.injectSocket(raw);
  });

  const listen = async (): Promise<void> => {
    tcp.listen({ port: options.port, host: options.host });
    await once(tcp, 'listening'); // rejects with the bind error (EADDRINUSE, EACCES)
    tcp.on('error', handlers.error);
  };

  const close = async (): Promise<void> => {
    if (!tcp.listening) return;
    const closed = once(tcp, 'close');
    tcp.close();
    const unfinished = [...handshaking.values()];
    handshaking.clear(); // first: a handshake cut off by the shutdown is no failure to report
    for (const { raw, timer } of unfinished) {
      clearTimeout(timer);
      raw.destroy();
    }
    await closed;
  };

  return {
    listen,
    close,
    useHostKey: (hostKey) => {
      ssh = makeServer(hostKey);
    },
    address: () => {
      const address = tcp.address();
      return address === null || typeof address === 'string' ? null : address;
    },
    get handshakes() {
      return handshaking.size;
    },
    get listening() {
      return tcp.listening;
    },
  };
}
