import type { Socket } from 'node:net';
import { type AuthContext, type Connection, type PublicKeyAuthContext, type RejectConnection, type Session, utils } from 'ssh2';
import { type DoorConnection, peerAddress, peerName } from '../door';
import { FAREWELL_GRACE_MS } from '../farewell';
import { fingerprint } from './host-key';
import { SshStream } from './stream';

/** Authentication requests one connection may make; past them it is dropped (each key offered costs a signature check). */
export const MAX_AUTH_ATTEMPTS = 20;

/** The methods a client is told to use: a key identifies it, keyboard-interactive lets one with none in. */
const METHODS = ['publickey', 'keyboard-interactive'] as const;

/** What a connection's SSH handling tells the door. */
export interface SshConnectionHandlers {
  /** The user has a shell: into the chat. */
  readonly enter: (connection: DoorConnection) => void;
  /** A request refused (exec, sftp, a forwarding, a second session), for the log. */
  readonly refused: (from: string, request: string) => void;
}

/** Options that hold for every connection. */
export interface SshConnectionOptions {
  readonly maxLineBytes: number;
}

/** A user name fit to be typed at the username prompt: one line, no control characters. */
function typeable(username: string): string | undefined {
  return username === '' || /[\p{Cc}\p{Cf}]/u.test(username) ? undefined : username;
}

/**
 * One SSH connection from authentication to its shell, which goes into the chat. Any client is
 * let in, with or without a key, as ssh-chat does: a key only identifies, and only once its
 * signature is verified. One session per connection, with a pty or without, and a shell in it;
 * everything else (exec, subsystems such as sftp, port, agent and X11 forwarding) is refused as
 * the protocol says, and reported.
 */
export function serveConnection(client: Connection, raw: Socket, options: SshConnectionOptions, handlers: SshConnectionHandlers): void {
  const keys = new Set<string>();
  let username: string | undefined;
  let attempts = 0;
  let sessions = 0;
  const from = peerName(raw);
  const refuse = (request: string, reject: RejectConnection | undefined) => {
    handlers.refused(from, request);
    reject?.(); // undefined when the client wants no reply
  };

  client.on('error', () => {}); // its socket closes with it: the door sees the close
  client.on('authentication', (context: AuthContext) => {
    if ((attempts += 1) > MAX_AUTH_ATTEMPTS) {
      raw.destroy();
      return;
    }
    username ??= context.username;
    if (context.method === 'publickey') authenticateKey(context, keys);
    else if (context.method === 'keyboard-interactive') context.accept(); // no questions: a user without a key is let in
    else context.reject([...METHODS]); // 'none' first, so that a client offers its keys
  });
  client.on('session', (accept, reject) => {
    if ((sessions += 1) > 1) return refuse('a second session', reject);
    const session = accept();
    let columns: number | undefined;
    let stream: SshStream | undefined;
    session.on('pty', (acceptPty, _reject, info) => {
      columns = info.cols;
      acceptPty?.();
    });
    session.on('window-change', (acceptChange, _reject, info) => {
      columns = info.cols;
      stream?.resize(info.cols);
      acceptChange?.();
    });
    session.on('shell', (acceptShell) => {
      const channel = acceptShell();
      stream = new SshStream(channel, { columns, maxLineBytes: options.maxLineBytes, username: typeable(username ?? ''), keys: [...keys] });
      // The chat is done with the shell: the client closes the connection itself, as OpenSSH does
      // once it has written out all it was sent; a disconnect from here before that made OpenSSH
      // print "Received disconnect" and drop the last bytes (the typed line's erasure).
      stream.once('close', () => cutLater(raw));
      client.once('close', () => stream?.destroy());
      handlers.enter(doorConnection(stream, raw));
    });
    refuseOthers(session, refuse);
  });
  client.on('tcpip', (_accept, reject) => refuse('direct-tcpip', reject));
  client.on('openssh.streamlocal', (_accept, reject) => refuse('streamlocal forwarding', reject));
  client.on('request', (_accept: unknown, reject: (() => void) | undefined, name: string) => refuse(name, reject));
}

/** How long a client may keep its connection open once its shell has closed; it is cut then. */
export const CLOSED_SHELL_GRACE_MS = FAREWELL_GRACE_MS;

/** Cuts `raw` off after CLOSED_SHELL_GRACE_MS unless it closes first. */
function cutLater(raw: Socket): void {
  if (raw.destroyed) return;
  const cut = setTimeout(() => raw.destroy(), CLOSED_SHELL_GRACE_MS);
  raw.once('close', () => clearTimeout(cut));
}

/** A key the client offers: "it would do" to the question, and the client let in once the signature it makes with it checks out. */
function authenticateKey(context: PublicKeyAuthContext, keys: Set<string>): void {
  const { signature, blob } = context;
  if (signature === undefined || blob === undefined) return context.accept();
  const key = utils.parseKey(context.key.data);
  if (key instanceof Error || key.verify(blob, signature, context.hashAlgo) !== true) return context.reject([...METHODS]);
  keys.add(fingerprint(key));
  context.accept();
}

/** Refuses every session request but a pty, its size and a shell, each reported. */
function refuseOthers(session: Session, refuse: (request: string, reject: RejectConnection | undefined) => void): void {
  session.on('exec', (_accept, reject) => refuse('exec', reject));
  session.on('sftp', (_accept, reject) => refuse('subsystem sftp', reject));
  session.on('subsystem', (_accept, reject, info) => refuse(`subsystem ${info.name.slice(0, 32)}`, reject));
  session.on('auth-agent', (_accept, reject) => refuse('agent forwarding', reject));
  session.on('x11', (_accept, reject) => refuse('X11 forwarding', reject));
  session.on('env', (_accept, reject) => reject?.()); // what the client's environment says changes nothing here
  session.on('signal', (_accept, reject) => reject?.());
}

/** The shell's stream as the chat takes a connection: encrypted, its peer the TCP socket's. */
function doorConnection(stream: SshStream, raw: Socket): DoorConnection {
  stream.on('error', () => {}); // the door's listener: the chat reads `errored` at the close
  return { stream, raw, door: 'ssh', secure: true, from: peerAddress(raw), peer: peerName(raw), conceal: (hidden) => stream.conceal(hidden) };
}
