import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';

/** A `--trust-proxy` entry that is not an address or a CIDR block. */
export class ProxyListError extends Error {
  readonly code = 'CHAT_TRUST_PROXY';
}

/** Where a connection comes from, as the chat sees it: its client's address, and whether it came encrypted. */
export interface Client {
  readonly from: string;
  readonly secure: boolean;
  /** True when the address came from a trusted proxy's X-Forwarded-For. */
  readonly forwarded: boolean;
}

/** An IPv4 peer on a dual-stack socket shows as plain IPv4. */
const plain = (address: string): string => address.replace(/^::ffff:(?=\d+\.)/, '');

/** An X-Forwarded-For hop as an address: some proxies (Azure Application Gateway, for one) add
 * the client's port, `192.0.2.7:4711` or `[2001:db8::1]:4711`, which would stop the walk at the
 * proxy itself. */
function hopAddress(hop: string): string {
  const found = /^\[([0-9a-f:.]+)\](?::\d+)?$/i.exec(hop) ?? /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(hop);
  return plain(found?.[1] ?? hop);
}

/** An address or a CIDR block (`10.0.0.0/8`, `fd00::/8`, `192.0.2.7`), as `--trust-proxy` lists them. */
export function isProxyEntry(entry: string): boolean {
  const [address = '', bits, extra] = entry.split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  return family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= max));
}

/** The reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed. */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  /** `entries`: addresses or CIDR blocks (`10.0.0.0/8`, `fd00::/8`); throws ProxyListError on another. */
  constructor(entries: readonly string[]) {
    for (const entry of entries) this.add(entry);
    this.size = entries.length;
  }

  private add(entry: string): void {
    if (!isProxyEntry(entry)) throw new ProxyListError(`not an address or a CIDR block: '${entry}'`);
    const [address = '', bits] = entry.split('/');
    const family = isIP(address);
    this.list.addSubnet(address, bits === undefined ? (family === 6 ? 128 : 32) : Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  }

  /** True when `address` is one of the trusted proxies. */
  trusts(address: string): boolean {
    const family = isIP(address);
    return family !== 0 && this.list.check(address, family === 6 ? 'ipv6' : 'ipv4');
  }

  /**
   * The client of `request`, which came from `peer` over a connection encrypted or not. From a
   * trusted proxy: the rightmost X-Forwarded-For hop that is not a trusted proxy (a hop that is
   * no address stops the walk at the last one that was), and X-Forwarded-Proto's last value for
   * the encryption. From anyone else the headers are ignored.
   */
  client(request: IncomingMessage, peer: string, encrypted: boolean): Client {
    const direct = { from: plain(peer), secure: encrypted, forwarded: false };
    if (this.size === 0 || !this.trusts(direct.from)) return direct;
    const hops = headerValues(request.headers['x-forwarded-for']).map(hopAddress);
    let from = direct.from;
    for (let at = hops.length - 1; at >= 0 && this.trusts(from); at--) {
      const hop = hops[at] ?? '';
      if (isIP(hop) === 0) break;
      from = hop;
    }
    const proto = headerValues(request.headers['x-forwarded-proto']).pop()?.toLowerCase();
    return { from, secure: proto === undefined ? encrypted : proto === 'https', forwarded: from !== direct.from };
  }
}

/** A header's comma-separated values, from each of its lines, in order. */
function headerValues(header: string | string[] | undefined): string[] {
  const lines = header === undefined ? [] : Array.isArray(header) ? header : [header];
  return lines.flatMap((line) => line.split(',')).map((value) => value.trim()).filter((value) => value !== '');
}
