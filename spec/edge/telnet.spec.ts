import { TelnetFilter } from '../../lib/edge/telnet';

const bytes = (...values: number[]) => Buffer.from(values);
const IAC = 0xff;

describe('TelnetFilter', () => {
  it('returns plain text untouched', () => {
    const chunk = Buffer.from('hello\n');
    expect(new TelnetFilter().strip(chunk)).toBe(chunk);
  });

  it('removes option negotiation, commands and subnegotiation', () => {
    const filter = new TelnetFilter();
    const input = bytes(IAC, 0xfb, 0x01, 0x61, IAC, 0xfd, 0x03, 0x62, IAC, 0xf1, 0x63, IAC, 0xfa, 0x1f, 0x00, 0x50, IAC, 0xf0, 0x64);
    expect(filter.strip(input).toString()).toBe('abcd');
  });

  it('keeps IAC IAC as one data byte, inside and outside a subnegotiation', () => {
    expect(new TelnetFilter().strip(bytes(0x61, IAC, IAC, 0x62, IAC, 0xfa, IAC, IAC, 0x0a, IAC, 0xf0))).toEqual(bytes(0x61, IAC, 0x62));
  });

  it('removes a sequence split across chunks', () => {
    const filter = new TelnetFilter();
    const chunks = [bytes(0x61, IAC), bytes(0xfb), bytes(0x18, 0x62, IAC, 0xfa), bytes(0x18, 0x0a, IAC), bytes(0xf0, 0x63)];
    expect(Buffer.concat(chunks.map((chunk) => filter.strip(chunk))).toString()).toBe('abc');
  });
});
