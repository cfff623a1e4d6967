import { addressGroup } from '../../lib/chat/address-group';

describe('addressGroup', () => {
  it('keeps an IPv4 address as its own group', () => {
    expect(addressGroup('192.0.2.7')).toBe('192.0.2.7');
  });

  it('reads an IPv4-mapped IPv6 address as the IPv4 address', () => {
    expect(addressGroup('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(addressGroup('::FFFF:192.0.2.7')).toBe('192.0.2.7');
  });

  it('groups IPv6 addresses by their /64, however they are written', () => {
    const group = '2001:db8:0:1::/64';
    expect(addressGroup('2001:db8:0:1::1')).toBe(group);
    expect(addressGroup('2001:0db8:0000:0001:ffff:ffff:ffff:ffff')).toBe(group);
    expect(addressGroup('2001:DB8:0:1:a:b:c:d')).toBe(group);
    expect(addressGroup('2001:db8:0:1::1%eth0')).toBe(group);
    expect(addressGroup('2001:db8:0:2::1')).not.toBe(group);
  });

  it('groups the loopback and the unspecified address like any other', () => {
    expect(addressGroup('::1')).toBe('0:0:0:0::/64');
    expect(addressGroup('::')).toBe('0:0:0:0::/64');
  });

  it('leaves what is not an IP address unchanged', () => {
    for (const odd of ['unknown', '', '1:2:3', '1::2::3', 'g::1', '1:2:3:4:5:6:7:8:9', '__proto__']) {
      expect(addressGroup(odd)).toBe(odd);
    }
  });
});
