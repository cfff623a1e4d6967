import { Admission, type AdmissionLimits, CONNECT_BURST, EXEMPT_ADDRESSES, MAX_CONNECTIONS_PER_ADDRESS, MAX_CONNECTS_PER_SECOND } from '../../lib/edge/admission';

const LIMITS: AdmissionLimits = { maxClients: 100, maxConnectionsPerAddress: 3, maxConnectsPerSecond: 2, connectBurst: 5, exemptAddresses: [] };

/** An Admission on a clock the spec moves. */
function admission(limits: Partial<AdmissionLimits> = {}): { door: Admission; wait: (ms: number) => void } {
  let now = 0;
  return { door: new Admission({ ...LIMITS, ...limits }, () => now), wait: (ms) => { now += ms; } };
}

/** Admits `times` connections from `address`, each one's outcome: 'in' or its refusal. */
const knock = (door: Admission, address: string, times = 1): string[] =>
  Array.from({ length: times }, () => door.admit(address)?.reason ?? 'in');

describe('Admission', () => {
  it('defaults to 20 connections at once per address and 2 new ones a second after a burst of 20, loopback exempt', () => {
    expect([MAX_CONNECTIONS_PER_ADDRESS, MAX_CONNECTS_PER_SECOND, CONNECT_BURST, EXEMPT_ADDRESSES]).toEqual([20, 2, 20, ['127.0.0.1', '::1']]);
  });

  it('bounds the connections one address holds at once; a closed one frees its place', () => {
    const { door } = admission();
    expect(knock(door, '192.0.2.1', 4)).toEqual(['in', 'in', 'in', 'per_address']);
    expect(knock(door, '192.0.2.2')).toEqual(['in']);
    door.release('192.0.2.1');
    expect(knock(door, '192.0.2.1', 2)).toEqual(['in', 'per_address']);
  });

  it('bounds the new connections one address opens, with a burst, refilled at the rate', () => {
    const { door, wait } = admission({ maxConnectionsPerAddress: 100 });
    expect(knock(door, '192.0.2.1', 6)).toEqual(['in', 'in', 'in', 'in', 'in', 'connect_rate']);
    for (let i = 0; i < 5; i++) door.release('192.0.2.1');
    expect(knock(door, '192.0.2.1')).toEqual(['connect_rate']); // closing them gives no new ones
    wait(499);
    expect(knock(door, '192.0.2.1')).toEqual(['connect_rate']);
    wait(1);
    expect(knock(door, '192.0.2.1', 2)).toEqual(['in', 'connect_rate']);
    wait(60_000);
    expect(knock(door, '192.0.2.1', 6)).toEqual(['in', 'in', 'in', 'in', 'in', 'connect_rate']); // no more than the burst saved up
  });

  it('counts a refused connection against nothing', () => {
    const { door } = admission({ maxConnectionsPerAddress: 1 });
    expect(knock(door, '192.0.2.1', 10)).toEqual(['in', ...Array<string>(9).fill('per_address')]);
    door.release('192.0.2.1');
    expect(knock(door, '192.0.2.1')).toEqual(['in']); // the nine refusals spent no tokens
  });

  it('groups IPv6 addresses by their /64, and IPv4-mapped ones with their IPv4 address', () => {
    const { door } = admission();
    expect(knock(door, '2001:db8:0:1::1', 2)).toEqual(['in', 'in']);
    expect(knock(door, '2001:db8:0:1:ffff:1:2:3')).toEqual(['in']);
    expect(knock(door, '2001:db8:0:1::99')).toEqual(['per_address']);
    expect(knock(door, '2001:db8:0:2::1')).toEqual(['in']);
    expect(knock(door, '192.0.2.1', 3)).toEqual(['in', 'in', 'in']);
    expect(knock(door, '::ffff:192.0.2.1')).toEqual(['per_address']);
    door.release('2001:db8:0:1::abcd'); // any address of the group frees one of its places
    expect(knock(door, '2001:db8:0:1::5')).toEqual(['in']);
  });

  it('refuses anyone once the server is full, per-address limits first', () => {
    const { door } = admission({ maxClients: 4 });
    expect([...knock(door, '192.0.2.1', 3), ...knock(door, '192.0.2.2', 2)]).toEqual(['in', 'in', 'in', 'in', 'full']);
    expect(knock(door, '192.0.2.1')).toEqual(['per_address']);
    expect(knock(door, '127.0.0.1')).toEqual(['full']);
    door.release('192.0.2.2');
    expect(knock(door, '192.0.2.3')).toEqual(['in']);
  });

  it('leaves exempt addresses (by group) out of the per-address limits, but not out of the clients served', () => {
    const { door } = admission({ maxClients: 10, exemptAddresses: ['127.0.0.1', '2001:db8::1'] });
    expect(knock(door, '127.0.0.1', 8)).toEqual(Array<string>(8).fill('in'));
    expect(knock(door, '2001:db8::2', 2)).toEqual(['in', 'in']);
    expect(knock(door, '2001:db8::3')).toEqual(['full']);
    expect(knock(door, '192.0.2.1')).toEqual(['full']);
  });

  it('marks the first refusal of a run, the one worth a log line, until the address is let in again', () => {
    const { door, wait } = admission({ maxConnectionsPerAddress: 1 });
    door.admit('192.0.2.1');
    expect([door.admit('192.0.2.1'), door.admit('192.0.2.1')]).toEqual([{ reason: 'per_address', first: true }, { reason: 'per_address', first: false }]);
    door.release('192.0.2.1');
    wait(1000);
    expect(door.admit('192.0.2.1')).toBeUndefined();
    expect(door.admit('192.0.2.1')).toEqual({ reason: 'per_address', first: true });
  });

  it('forgets idle addresses as new ones come, but never one with connections open or tokens spent', () => {
    const { door, wait } = admission({ maxConnectionsPerAddress: 1, connectBurst: 2, maxConnectsPerSecond: 1 });
    const passBy = (first: number) => {
      for (let i = first; i < first + 3000; i++) {
        const address = `10.${i >> 8 & 255}.${i & 255}.${i >> 16}`;
        if (door.admit(address) === undefined) door.release(address);
      }
    };
    expect(knock(door, '192.0.2.1')).toEqual(['in']);
    passBy(0);
    wait(5000); // every passer-by has its tokens back
    expect(knock(door, '192.0.2.2')).toEqual(['in']);
    door.release('192.0.2.2');
    expect(knock(door, '192.0.2.2')).toEqual(['in']); // its burst is spent
    door.release('192.0.2.2');
    passBy(3000);
    expect(door.addressesHeld).toBeLessThanOrEqual(3000 + 2); // the first 3000 are gone
    expect(knock(door, '192.0.2.1')).toEqual(['per_address']);
    expect(knock(door, '192.0.2.2')).toEqual(['connect_rate']);
    wait(1000);
    expect(knock(door, '192.0.2.2')).toEqual(['in']);
  });
});
