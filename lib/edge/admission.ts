import { addressGroup } from '../chat/address-group';

/** Default for the connections one address (its group: an IPv6 /64) may hold open at once. */
export const MAX_CONNECTIONS_PER_ADDRESS = 20;
/** Default for the new connections one address may open per second, once its burst is spent. */
export const MAX_CONNECTS_PER_SECOND = 2;
/** Default for the new connections one address may open at once after being quiet: enough for
 * everyone behind one NAT to come back together after a restart. */
export const CONNECT_BURST = 20;
/** Default for the addresses the per-address limits leave alone: this machine, where a proxy in
 * front of chatd would make every user one address. */
export const EXEMPT_ADDRESSES: readonly string[] = ['127.0.0.1', '::1'];

/** What limits the connections let in. */
export interface AdmissionLimits {
  /** Connections open at once, from every address together. */
  readonly maxClients: number;
  /** Connections open at once from one address group. */
  readonly maxConnectionsPerAddress: number;
  /** New connections per second from one address group, once its burst is spent. */
  readonly maxConnectsPerSecond: number;
  /** New connections one address group may open at once after being quiet. */
  readonly connectBurst: number;
  /** Addresses whose groups the per-address limits leave alone; `maxClients` still counts them. */
  readonly exemptAddresses: readonly string[];
}

/** Why a connection was not let in: the server is full, its address holds too many, or it connects too fast. */
export type AdmissionRefusal = 'full' | 'per_address' | 'connect_rate';

/** What one address group holds: its open connections and its connect tokens. */
interface Group {
  open: number;
  tokens: number;
  countedAt: number;
  /** Refused since it was last let in: its later refusals are not worth a log line each. */
  refusing: boolean;
}

/** The fewest groups kept before idle ones are swept out. */
const MIN_SWEEP_SIZE = 1024;

/** A refusal, and whether it is the first of its group's run of refusals (the one to log). */
export interface Refused {
  readonly reason: AdmissionRefusal;
  readonly first: boolean;
}

/**
 * Counts the connections open, in all and per address group (`addressGroup`: an IPv6 address
 * by its /64), and the rate at which each group opens new ones (a token bucket). A connection
 * counts from `admit` to `release`, whatever it is doing meanwhile (a TLS handshake included),
 * so that neither unfinished connections nor one host can fill the server. The table of groups
 * holds a group while it has connections open or tokens spent, and is swept as it grows.
 */
export class Admission {
  private readonly groups = new Map<string, Group>();
  private readonly exempt: ReadonlySet<string>;
  private open = 0;
  private sweepAt = MIN_SWEEP_SIZE;

  constructor(private readonly limits: AdmissionLimits, private readonly now: () => number) {
    this.exempt = new Set(limits.exemptAddresses.map(addressGroup));
  }

  /** Address groups held now: those with connections open or tokens spent, and those not swept yet. */
  get addressesHeld(): number {
    return this.groups.size;
  }

  /** Counts a new connection from `address` and returns undefined, or returns why it may not come in (counting nothing). */
  admit(address: string): Refused | undefined {
    const key = addressGroup(address);
    if (this.exempt.has(key)) {
      if (this.open >= this.limits.maxClients) return { reason: 'full', first: true };
      this.open += 1;
      return undefined;
    }
    const group = this.group(key);
    const reason = this.refusal(group);
    if (reason !== undefined) {
      const first = !group.refusing;
      group.refusing = true;
      return { reason, first };
    }
    group.tokens -= 1;
    group.open += 1;
    group.refusing = false;
    this.open += 1;
    return undefined;
  }

  /** A connection admitted from `address` has closed. */
  release(address: string): void {
    this.open = Math.max(0, this.open - 1);
    const group = this.groups.get(addressGroup(address));
    if (group !== undefined) group.open = Math.max(0, group.open - 1);
  }

  private refusal(group: Group): AdmissionRefusal | undefined {
    if (group.open >= this.limits.maxConnectionsPerAddress) return 'per_address';
    if (group.tokens < 1) return 'connect_rate';
    if (this.open >= this.limits.maxClients) return 'full';
    return undefined;
  }

  /** `key`'s group with its tokens refilled to now, made if new. */
  private group(key: string): Group {
    const now = this.now();
    const found = this.groups.get(key);
    if (found !== undefined) {
      found.tokens = this.refilled(found, now);
      found.countedAt = now;
      return found;
    }
    if (this.groups.size >= this.sweepAt) this.sweep(now);
    const made: Group = { open: 0, tokens: this.limits.connectBurst, countedAt: now, refusing: false };
    this.groups.set(key, made);
    return made;
  }

  private refilled(group: Group, now: number): number {
    const earned = ((now - group.countedAt) / 1000) * this.limits.maxConnectsPerSecond;
    return Math.min(this.limits.connectBurst, group.tokens + earned);
  }

  /** Drops the groups that hold nothing: no connection open and every token back. Run as the
   * table doubles, so its cost per connection stays constant however many addresses come. */
  private sweep(now: number): void {
    for (const [key, group] of this.groups) {
      if (group.open === 0 && this.refilled(group, now) >= this.limits.connectBurst) this.groups.delete(key);
    }
    this.sweepAt = Math.max(MIN_SWEEP_SIZE, this.groups.size * 2);
  }
}
