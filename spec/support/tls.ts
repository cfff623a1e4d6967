import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { connect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { promisify } from 'node:util';
import { type Client, readingClient } from './client';

const run = promisify(execFile);

/** A self-signed certificate and its key, as PEM files. */
export interface CertificateFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** A temporary folder for certificates; `remove()` deletes it and all in it. */
export async function certificateFolder(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'chatd-tls-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Makes a self-signed P-256 certificate for `commonName` with the openssl command line, as
 * `name.crt` and `name.key` in `dir` (overwriting them). */
export async function makeCertificate(dir: string, name: string, commonName: string): Promise<CertificateFiles> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', `/CN=${commonName}`]);
  return { certFile, keyFile };
}

/** A TLS client on 127.0.0.1:port that accepts any certificate: specs read which one it got. */
export async function connectTlsClient(port: number, options: ConnectionOptions = {}): Promise<Client & { readonly socket: TLSSocket }> {
  const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...options });
  const client = await readingClient(socket, 'secureConnect');
  return { ...client, socket };
}

/** The common name of the certificate the server showed. */
export function peerName(socket: TLSSocket): string | undefined {
  const name = socket.getPeerCertificate().subject.CN;
  return typeof name === 'string' ? name : undefined;
}

/** Two certificates, `first` and `second`, made once for a spec file in a folder removed after it. */
export interface Certificates {
  readonly dir: () => string;
  readonly first: () => CertificateFiles;
  readonly second: () => CertificateFiles;
  /** Copies `pair` over `target`, as a renewal would. */
  readonly install: (pair: CertificateFiles, target: CertificateFiles) => Promise<void>;
}

/** Registers, in the enclosing file or describe, the hooks that make and remove Certificates. */
export function useCertificates(): Certificates {
  let folder: Awaited<ReturnType<typeof certificateFolder>> | undefined;
  let pairs: readonly [CertificateFiles, CertificateFiles] | undefined;
  beforeAll(async () => {
    folder = await certificateFolder();
    pairs = await Promise.all([makeCertificate(folder.dir, 'first', 'first'), makeCertificate(folder.dir, 'second', 'second')]);
  });
  afterAll(async () => {
    await folder?.remove();
  });
  const made = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('no certificates outside the specs');
    return value;
  };
  return {
    dir: () => made(folder).dir,
    first: () => made(pairs)[0],
    second: () => made(pairs)[1],
    install: async (pair, target) => {
      await Promise.all([copyFile(pair.certFile, target.certFile), copyFile(pair.keyFile, target.keyFile)]);
    },
  };
}

/** The first flight of a TLS client (its ClientHello), caught by a listener of our own. */
export async function clientHello(): Promise<Buffer> {
  const catcher = createServer();
  catcher.listen(0, '127.0.0.1');
  await once(catcher, 'listening');
  const address = catcher.address();
  if (address === null || typeof address === 'string') throw new Error('TCP only');
  const caught = once(catcher, 'connection').then(async ([socket]: Socket[]) => {
    if (socket === undefined) throw new Error('no connection');
    const [hello] = await once(socket, 'data');
    socket.destroy();
    return Buffer.from(hello);
  });
  const client = connect({ port: address.port, host: '127.0.0.1', rejectUnauthorized: false });
  client.on('error', () => {}); // we hang up on it
  const hello = await caught;
  client.destroy();
  catcher.close();
  await once(catcher, 'close');
  return hello;
}

/** A connection to a TLS port whose handshake the server has begun (it answered the ClientHello)
 * and which never goes on: one the server holds mid-handshake until its timeout. */
export async function stalledHandshake(port: number, hello: Buffer): Promise<Socket> {
  const socket = connectTcp(port, '127.0.0.1');
  socket.on('error', () => {}); // a reset from the server is a case under test
  await once(socket, 'connect');
  socket.write(hello);
  await once(socket, 'data');
  socket.pause(); // reads nothing more, answers nothing
  return socket;
}
