/**
 * The group a peer's address belongs to for every per-address rule (limits, throttles, address
 * bans): an IPv4 address is its own group; an IPv6 address is its /64, since one host is
 * usually given a whole /64 and could otherwise walk around any rule by changing its low bits.
 * Pure text in, text out: the edge hands it `socket.remoteAddress`.
 */

/** How many leading 16-bit groups of an IPv6 address make the group a host is given. */
const IPV6_HOST_GROUPS = 4;

/** The IPv4 address inside an IPv4-mapped IPv6 one (`::ffff:1.2.3.4`), as a dual-stack socket reports it. */
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i;

/** The eight 16-bit groups of an IPv6 address, or undefined when `address` is not one. */
function ipv6Groups(address: string): number[] | undefined {
  const zoneless = address.replace(/%.*$/, '');
  const halves = zoneless.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string | undefined): string[] => (part === undefined || part === '' ? [] : part.split(':'));
  const head = parse(halves[0]);
  const tail = parse(halves[1]);
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const words = [...head, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...tail];
  if (!words.every((word) => /^[0-9a-f]{1,4}$/i.test(word))) return undefined;
  return words.map((word) => parseInt(word, 16));
}

/**
 * `address` reduced to its group: `1.2.3.4` for IPv4 (mapped or not), `2001:db8:0:1::/64` for
 * IPv6; anything else (a unix socket, 'unknown') is its own group, unchanged.
 */
export function addressGroup(address: string): string {
  const mapped = MAPPED_IPV4.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  const groups = ipv6Groups(address);
  if (groups === undefined) return address;
  const prefix = groups.slice(0, IPV6_HOST_GROUPS).map((group) => group.toString(16));
  return `${prefix.join(':')}::/64`;
}
