import { ECHO, TelnetFilter, TIMING_MARK } from '../../lib/edge/telnet';

const bytes = (...values: number[]) => Buffer.from(values);
const IAC = 0xff;
const [WILL, WONT, DO, DONT] = [0xfb, 0xfc, 0xfd, 0xfe];
const IP = 0xf4;
const SUPPRESS_GO_AHEAD = 0x03;
const TERMINAL_TYPE = 0x18;

/** A filter and every command it answered with, in order. */
function telnet() {
  const sent: number[][] = [];
  const filter = new TelnetFilter((command) => sent.push([...command]));
  /** Strips `input` and returns what the filter answered to it. */
  const answers = (...input: number[]): number[][] => {
    sent.length = 0;
    filter.strip(bytes(...input));
    return [...sent];
  };
  return { filter, sent, answers };
}

describe('TelnetFilter', () => {
  it('returns plain text untouched', () => {
    const chunk = Buffer.from('hello\n');
    expect(telnet().filter.strip(chunk)).toBe(chunk);
  });

  it('removes option negotiation, commands and subnegotiation', () => {
    const input = bytes(IAC, WILL, 0x01, 0x61, IAC, DO, 0x03, 0x62, IAC, 0xf1, 0x63, IAC, 0xfa, 0x1f, 0x00, 0x50, IAC, 0xf0, 0x64);
    expect(telnet().filter.strip(input).toString()).toBe('abcd');
  });

  it('keeps IAC IAC as one data byte, inside and outside a subnegotiation', () => {
    expect(telnet().filter.strip(bytes(0x61, IAC, IAC, 0x62, IAC, 0xfa, IAC, IAC, 0x0a, IAC, 0xf0))).toEqual(bytes(0x61, IAC, 0x62));
  });

  it('removes a sequence split across chunks', () => {
    const { filter } = telnet();
    const chunks = [bytes(0x61, IAC), bytes(WILL), bytes(0x18, 0x62, IAC, 0xfa), bytes(0x18, 0x0a, IAC), bytes(0xf0, 0x63)];
    expect(Buffer.concat(chunks.map((chunk) => filter.strip(chunk))).toString()).toBe('abc');
  });

  describe('negotiation (RFC 1143)', () => {
    it("answers an interrupt's DO TIMING-MARK with WILL TIMING-MARK, every time, and leaves the option off", () => {
      const { filter, answers } = telnet();
      expect(answers(IAC, IP, IAC, DO, TIMING_MARK)).toEqual([[IAC, WILL, TIMING_MARK]]);
      expect(answers(IAC, IP, IAC, DO, TIMING_MARK)).toEqual([[IAC, WILL, TIMING_MARK]]);
      expect(filter.enabled('us', TIMING_MARK)).toBe(false);
    });

    it('answers a DO TIMING-MARK split across chunks once it is whole', () => {
      const { answers } = telnet();
      expect(answers(0x61, IAC, DO)).toEqual([]);
      expect(answers(TIMING_MARK, 0x62)).toEqual([[IAC, WILL, TIMING_MARK]]);
    });

    it('refuses what it was not asked for, WILL with DONT and DO with WONT, in one write per chunk', () => {
      const { filter, answers } = telnet();
      expect(answers(IAC, WILL, TERMINAL_TYPE, IAC, DO, SUPPRESS_GO_AHEAD)).toEqual([[IAC, DONT, TERMINAL_TYPE, IAC, WONT, SUPPRESS_GO_AHEAD]]);
      const flood = Array.from({ length: 1000 }, () => [IAC, DO, TERMINAL_TYPE]).flat();
      expect(answers(...flood)).toEqual([Array.from({ length: 1000 }, () => [IAC, WONT, TERMINAL_TYPE]).flat()]);
      expect(filter.enabled('him', TERMINAL_TYPE)).toBe(false);
      expect(filter.enabled('us', SUPPRESS_GO_AHEAD)).toBe(false);
    });

    it('never answers WONT or DONT for an option that is off, so two sides cannot loop', () => {
      expect(telnet().answers(IAC, WONT, ECHO, IAC, DONT, ECHO, IAC, DONT, TIMING_MARK)).toEqual([]);
    });

    it('accepts what it asked for, and does not answer the answer', () => {
      const { filter, sent, answers } = telnet();
      filter.ask('us', ECHO, true);
      expect(sent).toEqual([[IAC, WILL, ECHO]]);
      expect(answers(IAC, DO, ECHO)).toEqual([]);
      expect(filter.enabled('us', ECHO)).toBe(true);
      expect(answers(IAC, DO, ECHO)).toEqual([]); // already on: nothing to say
    });

    it('takes a refusal of what it asked for without answering it', () => {
      const { filter, sent, answers } = telnet();
      filter.ask('him', SUPPRESS_GO_AHEAD, true);
      expect(sent).toEqual([[IAC, DO, SUPPRESS_GO_AHEAD]]);
      expect(answers(IAC, WONT, SUPPRESS_GO_AHEAD)).toEqual([]);
      expect(filter.enabled('him', SUPPRESS_GO_AHEAD)).toBe(false);
      expect(answers(IAC, WILL, SUPPRESS_GO_AHEAD)).toEqual([[IAC, DONT, SUPPRESS_GO_AHEAD]]); // now unasked: refused
    });

    it('agrees when the client turns off an enabled option, and disables its own on request', () => {
      const { filter, sent, answers } = telnet();
      filter.ask('us', ECHO, true);
      answers(IAC, DO, ECHO);
      expect(answers(IAC, DONT, ECHO)).toEqual([[IAC, WONT, ECHO]]);
      expect(filter.enabled('us', ECHO)).toBe(false);
      filter.ask('us', ECHO, true);
      answers(IAC, DO, ECHO);
      sent.length = 0;
      filter.ask('us', ECHO, false);
      expect(sent).toEqual([[IAC, WONT, ECHO]]);
      expect(answers(IAC, DONT, ECHO)).toEqual([]);
      expect(filter.enabled('us', ECHO)).toBe(false);
    });

    it('keeps one request on the wire: a change of mind waits for the answer, then is sent', () => {
      const { filter, sent, answers } = telnet();
      filter.ask('us', ECHO, true);
      filter.ask('us', ECHO, false); // queued, not sent
      filter.ask('us', ECHO, true); // the queue emptied again
      filter.ask('us', ECHO, false);
      expect(sent).toEqual([[IAC, WILL, ECHO]]);
      expect(answers(IAC, DO, ECHO)).toEqual([[IAC, WONT, ECHO]]);
      expect(answers(IAC, DONT, ECHO)).toEqual([]);
      expect(filter.enabled('us', ECHO)).toBe(false);
    });

    it('asks again for what it wanted back once a disable it queued behind is answered', () => {
      const { filter, sent, answers } = telnet();
      filter.ask('us', ECHO, true);
      answers(IAC, DO, ECHO);
      sent.length = 0;
      filter.ask('us', ECHO, false);
      filter.ask('us', ECHO, true);
      expect(sent).toEqual([[IAC, WONT, ECHO]]);
      expect(answers(IAC, DONT, ECHO)).toEqual([[IAC, WILL, ECHO]]);
      expect(answers(IAC, DO, ECHO)).toEqual([]);
      expect(filter.enabled('us', ECHO)).toBe(true);
    });
  });

  describe('the echo chatd asks for at a password prompt (RFC 857)', () => {
    const CR = 0x0d;
    const LF = 0x0a;
    const line = [...Buffer.from('secret\r\n')];

    it('echoes only the line ends while its ECHO is on, and until the client has answered its end', () => {
      const { filter, sent, answers } = telnet();
      filter.ask('us', ECHO, true);
      expect(answers(IAC, DO, ECHO)).toEqual([]);
      expect(answers(...line)).toEqual([[CR, LF]]);
      sent.length = 0;
      filter.ask('us', ECHO, false);
      expect(sent).toEqual([[IAC, WONT, ECHO]]);
      expect(answers(...line)).toEqual([[CR, LF]]); // typed before the client read the WONT: not shown by it
      expect(answers(IAC, DONT, ECHO, ...line)).toEqual([]);
    });

    it('returns the text of a line it echoes, split where it was split', () => {
      const { filter } = telnet();
      filter.ask('us', ECHO, true);
      filter.strip(bytes(IAC, DO, ECHO));
      expect(Buffer.concat([filter.strip(bytes(0x61, CR)), filter.strip(bytes(LF, 0x62, LF))]).toString()).toBe('a\r\nb\n');
    });

    it('echoes nothing the client typed before its DO ECHO, nor after it refused with DONT ECHO', () => {
      const { filter, answers } = telnet();
      filter.ask('us', ECHO, true);
      expect(answers(...line, IAC, DO, ECHO, ...line)).toEqual([[CR, LF]]); // the first line was on its screen
      const refused = telnet();
      refused.filter.ask('us', ECHO, true);
      expect(refused.answers(IAC, DONT, ECHO, ...line)).toEqual([]);
      refused.filter.ask('us', ECHO, false);
      expect(refused.sent).toEqual([]); // off already: nothing to send
    });

    it('sends one WONT ECHO for a prompt answered before the client agreed, once it agrees, and echoes meanwhile nothing', () => {
      const { filter, sent, answers } = telnet();
      filter.ask('us', ECHO, true);
      expect(answers(...line)).toEqual([]);
      filter.ask('us', ECHO, false);
      expect(answers(IAC, DO, ECHO, ...line)).toEqual([[IAC, WONT, ECHO, CR, LF]]);
      expect(sent.flat().filter((byte) => byte === WILL || byte === WONT)).toEqual([WONT]);
    });
  });
});
