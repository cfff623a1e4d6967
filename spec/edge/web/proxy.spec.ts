import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { ProxyListError, TrustedProxies } from '../../../lib/edge/web/proxy';

function request(headers: Record<string, string>): IncomingMessage {
  const message = new IncomingMessage(new Socket());
  Object.assign(message.headers, headers);
  return message;
}

describe('TrustedProxies', () => {
  it('takes addresses and CIDR blocks, IPv4 and IPv6, and refuses anything else', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8', '192.0.2.1', 'fd00::/8']);
    expect(proxies.trusts('10.1.2.3')).toBe(true);
    expect(proxies.trusts('192.0.2.1')).toBe(true);
    expect(proxies.trusts('192.0.2.2')).toBe(false);
    expect(proxies.trusts('fd12::1')).toBe(true);
    expect(proxies.trusts('not an address')).toBe(false);
    for (const bad of ['10.0.0.0/33', 'example.org', '10.0.0.0/8/1', '10.0.0.0/x', '']) expect(() => new TrustedProxies([bad])).toThrow(ProxyListError);
  });

  it('reads the client from the rightmost hop that is not a trusted proxy', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8']);
    const client = proxies.client(request({ 'x-forwarded-for': '198.51.100.1, 203.0.113.5, 10.0.0.9', 'x-forwarded-proto': 'http, https' }), '::ffff:10.0.0.1', false);
    expect(client).toEqual({ from: '203.0.113.5', secure: true, forwarded: true });
  });

  it('reads a hop that a proxy wrote with its port', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8']);
    for (const [hop, from] of [['203.0.113.5:4711', '203.0.113.5'], ['[2001:db8::1]:4711', '2001:db8::1'], ['[2001:db8::1]', '2001:db8::1']]) {
      expect(proxies.client(request({ 'x-forwarded-for': `${hop}, 10.0.0.9:80` }), '10.0.0.1', false)).toEqual({ from, secure: false, forwarded: true });
    }
  });

  it('stops at a hop that is no address, and takes the last one that was', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8']);
    expect(proxies.client(request({ 'x-forwarded-for': 'unknown' }), '10.0.0.1', true)).toEqual({ from: '10.0.0.1', secure: true, forwarded: false });
  });

  it('ignores the headers from a peer it does not trust', () => {
    const proxies = new TrustedProxies(['10.0.0.0/8']);
    const client = proxies.client(request({ 'x-forwarded-for': '198.51.100.1', 'x-forwarded-proto': 'https' }), '192.0.2.7', false);
    expect(client).toEqual({ from: '192.0.2.7', secure: false, forwarded: false });
  });
});
