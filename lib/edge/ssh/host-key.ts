import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type ParsedKey, utils } from 'ssh2';

/** The host key chatd makes in its data folder when it is given none. */
export const HOST_KEY_FILE = 'ssh_host_ed25519_key';

/** A host key that cannot be read, made or used; the message names the file or the fault. */
export class SshHostKeyError extends Error {
  readonly code = 'CHAT_SSH_HOST_KEY';
}

/** A host key that parses as a private key; SshHostKeyError otherwise, naming `where` it came from. */
export function parsePrivateKey(key: Buffer | string, where: string): ParsedKey {
  const parsed = utils.parseKey(key);
  if (parsed instanceof Error) throw new SshHostKeyError(`bad SSH host key (${where}): ${parsed.message}`);
  if (!parsed.isPrivateKey()) throw new SshHostKeyError(`bad SSH host key (${where}): not a private key`);
  return parsed;
}

/** A key's fingerprint as `ssh` and `ssh-keygen -l` show it: `SHA256:` and the unpadded base64 of its public blob's hash. */
export function fingerprint(key: ParsedKey): string {
  return `SHA256:${createHash('sha256').update(key.getPublicSSH()).digest('base64').replace(/=+$/, '')}`;
}

/** The host key in `file`; rejects with SshHostKeyError when it cannot be read or is no private key. */
export async function readHostKey(file: string): Promise<Buffer> {
  let key: Buffer;
  try {
    key = await readFile(file);
  } catch (err) {
    throw new SshHostKeyError(`cannot read SSH host key ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  parsePrivateKey(key, file);
  return key;
}

/** Where a data folder's host key is, and whether it was made just now. */
export interface KeptHostKey {
  readonly file: string;
  readonly created: boolean;
}

/** The host key kept in `dataDir`: made there (ed25519, readable by its owner alone) on first start. */
export async function keepHostKey(dataDir: string): Promise<KeptHostKey> {
  const file = join(dataDir, HOST_KEY_FILE);
  try {
    await mkdir(dataDir, { recursive: true });
    // 'wx': a key already there is never overwritten, and users keep trusting it.
    await writeFile(file, utils.generateKeyPairSync('ed25519').private, { mode: 0o600, flag: 'wx' });
    return { file, created: true };
  } catch (err) {
    if (err instanceof Error && 'code' in err && err.code === 'EEXIST') return { file, created: false };
    throw new SshHostKeyError(`cannot make SSH host key ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Where the SSH door listens, and its host key: given as text, as a file, or (neither) kept in the data folder. */
export interface SshSettings {
  readonly port: number;
  /** The host key itself (OpenSSH or PEM private key); it cannot be reloaded. */
  readonly hostKey?: Buffer | string;
  /** A file holding the host key, read at the start and again on each reload. */
  readonly hostKeyFile?: string;
}

/** A host key ready to serve, where it came from, and what users will see of it. */
export interface HostKey {
  readonly key: Buffer | string;
  /** The file it was read from, read again on a reload; undefined when it was given as text. */
  readonly file: string | undefined;
  /** Made just now, in the data folder. */
  readonly created: boolean;
  readonly fingerprint: string;
}

/**
 * The host key `settings` name, or the one kept in `dataDir` (made on first start). A cluster's
 * nodes must show users the same key, so `clustered` needs it given; so does a chat without a
 * data folder. Rejects with SshHostKeyError.
 */
export async function loadHostKey(settings: SshSettings, dataDir: string | undefined, clustered: boolean): Promise<HostKey> {
  if (settings.hostKey !== undefined) {
    return { key: settings.hostKey, file: undefined, created: false, fingerprint: fingerprint(parsePrivateKey(settings.hostKey, 'given')) };
  }
  if (settings.hostKeyFile !== undefined) return fromFile(settings.hostKeyFile, false);
  if (clustered) throw new SshHostKeyError("a cluster's nodes need the same SSH host key: give it (--ssh-host-key)");
  if (dataDir === undefined) throw new SshHostKeyError('SSH needs a host key: give one, or a data folder to keep one in');
  const kept = await keepHostKey(dataDir);
  return fromFile(kept.file, kept.created);
}

async function fromFile(file: string, created: boolean): Promise<HostKey> {
  const key = await readHostKey(file);
  return { key, file, created, fingerprint: fingerprint(parsePrivateKey(key, file)) };
}
