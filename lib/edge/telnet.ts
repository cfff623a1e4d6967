/**
 * Telnet, as much as a line chat needs. A telnet client mixes IAC sequences into its input; they
 * are protocol, not text, so they are removed before lines are split and lengths counted, and
 * option negotiation is answered by the Q method of RFC 1143, so that no client waits on chatd
 * and no two sides loop.
 */

const IAC = 0xff;
const SB = 0xfa; // subnegotiation begins: everything up to IAC SE is option data
const SE = 0xf0;
const WILL = 0xfb; // WILL, WONT, DO and DONT (0xfb to 0xfe) are followed by one option byte
const WONT = 0xfc;
const DO = 0xfd;
const DONT = 0xfe;
const CR = 0x0d;
const LF = 0x0a;

/** RFC 860: "DO TIMING-MARK" asks to be told once everything sent before it is processed. */
export const TIMING_MARK = 0x06;
/** RFC 857: the side that WILL ECHO echoes what the other types; a password prompt asks for it.
 * chatd echoes only the line ends, as "\r\n": the password itself stays off the screen. */
export const ECHO = 0x01;

/** Whether a chunk holds a telnet command (IAC), which needs a filter; nc sends none. */
export const hasTelnetCommand = (chunk: Buffer): boolean => chunk.includes(IAC);

/** Sends a telnet command to the client of the connection being read. */
export type TelnetAnswer = (command: Buffer) => void;

enum State {
  Data,
  Command, // after IAC
  Option, // after IAC WILL/WONT/DO/DONT
  Subnegotiation, // after IAC SB
  SubnegotiationCommand, // after IAC inside a subnegotiation
}

/** One side of one option, as RFC 1143 names its states; the queue bit is folded into the state. */
enum Q {
  No,
  Yes,
  WantNo,
  WantYes,
  WantNoOpposite, // asked to disable; once that is answered, asks to enable again
  WantYesOpposite, // asked to enable; once that is answered, asks to disable again
}

/** Whose side of an option: `us` is chatd's (WILL/WONT from us, DO/DONT from the client), `him` the client's. */
export type TelnetSide = 'us' | 'him';

const enableVerb = { us: WILL, him: DO } as const;
const disableVerb = { us: WONT, him: DONT } as const;

/**
 * One connection's telnet: `strip` takes each chunk in order and returns its text bytes, and
 * answers the client's option negotiation through `answer`. It keeps state between chunks, so a
 * sequence split across two reads is still removed whole; IAC IAC is the escaped data byte 0xff.
 * chatd enables no option the client offers or asks for unless chatd asked for it first (`ask`):
 * it refuses the rest with WONT or DONT, and answers each DO TIMING-MARK with WILL TIMING-MARK
 * (RFC 860), which leaves the option off, since a telnet client sends one with every interrupt
 * and discards all output until it is answered. While chatd's ECHO is on, or its end not yet
 * seen by the client, each line end the client sends is echoed, since the client no longer shows
 * it. Made for a connection's first telnet command: nc sends none, and chatd sends no telnet
 * command to a client that has not sent one.
 */
export class TelnetFilter {
  private state = State.Data;
  private verb = 0; // of the option command being read
  // Answers to the chunk being stripped, sent as one write when it is done: a write per answer
  // would cost a few hundred bytes each while queued, for three bytes of a client that floods
  // commands and reads nothing.
  private answers: number[] | undefined;
  // Options whose negotiation left the No state, per side: most clients never get one.
  private readonly sides = { us: new Map<number, Q>(), him: new Map<number, Q>() };
  // The client does not echo what it sends now: our ECHO is on, or its end is not yet answered.
  private echoing = false;

  constructor(private readonly answer: TelnetAnswer) {}

  strip(chunk: Buffer): Buffer {
    let state = this.state;
    // The common case copies nothing.
    if (state === State.Data && !chunk.includes(IAC) && !(this.echoing && chunk.includes(LF))) return chunk;
    const text = Buffer.allocUnsafe(chunk.length);
    let length = 0;
    const answers: number[] = (this.answers = []);
    for (const byte of chunk) {
      switch (state) {
        case State.Data:
          if (byte === IAC) state = State.Command;
          else text[length++] = byte;
          if (byte === LF && this.echoing) answers.push(CR, LF);
          break;
        case State.Command:
          if (byte === IAC) text[length++] = byte;
          this.verb = byte;
          state = byte === SB ? State.Subnegotiation : byte >= WILL && byte !== IAC ? State.Option : State.Data;
          break;
        case State.Option:
          this.negotiate(this.verb, byte);
          state = State.Data;
          break;
        case State.Subnegotiation:
          if (byte === IAC) state = State.SubnegotiationCommand;
          break;
        case State.SubnegotiationCommand:
          state = byte === SE ? State.Data : State.Subnegotiation;
          break;
      }
    }
    this.state = state;
    this.answers = undefined;
    if (answers.length > 0) this.answer(Buffer.from(answers));
    return text.subarray(0, length);
  }

  /** Whether `side` of `option` is enabled now. */
  enabled(side: TelnetSide, option: number): boolean {
    return this.sides[side].get(option) === Q.Yes;
  }

  /**
   * Asks for `side` of `option` to be enabled or disabled, as RFC 1143 says: at most one request
   * of an option is on the wire at a time, and a change of mind while it is waits for its answer.
   */
  ask(side: TelnetSide, option: number, enable: boolean): void {
    const q = this.sides[side].get(option) ?? Q.No;
    if (enable) {
      if (q === Q.No) this.send(side, option, Q.WantYes, enableVerb[side]);
      else if (q === Q.WantNo) this.set(side, option, Q.WantNoOpposite);
      else if (q === Q.WantYesOpposite) this.set(side, option, Q.WantYes);
    } else if (q === Q.Yes) this.send(side, option, Q.WantNo, disableVerb[side]);
    else if (q === Q.WantYes) this.set(side, option, Q.WantYesOpposite);
    else if (q === Q.WantNoOpposite) this.set(side, option, Q.WantNo);
  }

  private negotiate(verb: number, option: number): void {
    if (verb === DO && option === TIMING_MARK) return this.write(WILL, option); // stays off: RFC 860
    if (verb === WILL || verb === DO) this.offered(verb === DO ? 'us' : 'him', option);
    else if (verb === WONT || verb === DONT) this.refused(verb === DONT ? 'us' : 'him', option);
  }

  /** The client offers (WILL) or asks for (DO) `side` of `option`. */
  private offered(side: TelnetSide, option: number): void {
    const q = this.sides[side].get(option) ?? Q.No;
    if (q === Q.No) this.write(disableVerb[side], option); // not asked for: refused
    else if (q === Q.WantYes) this.set(side, option, Q.Yes);
    else if (q === Q.WantYesOpposite) this.send(side, option, Q.WantNo, disableVerb[side]);
    // A disable answered by an enable breaks the RFC; taken as it stands, and answered no more.
    else if (q === Q.WantNo) this.set(side, option, Q.No);
    else if (q === Q.WantNoOpposite) this.set(side, option, Q.Yes);
  }

  /** The client refuses or disables (WONT, DONT) `side` of `option`; a refusal is never answered but to turn off what was on. */
  private refused(side: TelnetSide, option: number): void {
    const q = this.sides[side].get(option) ?? Q.No;
    if (q === Q.Yes) this.send(side, option, Q.No, disableVerb[side]);
    else if (q === Q.WantNoOpposite) this.send(side, option, Q.WantYes, enableVerb[side]);
    else this.set(side, option, Q.No);
  }

  private send(side: TelnetSide, option: number, q: Q, verb: number): void {
    this.set(side, option, q);
    this.write(verb, option);
  }

  private set(side: TelnetSide, option: number, q: Q): void {
    if (side === 'us' && option === ECHO) this.echoing = q === Q.Yes || q === Q.WantNo || q === Q.WantNoOpposite;
    if (q === Q.No) this.sides[side].delete(option);
    else this.sides[side].set(option, q);
  }

  private write(verb: number, option: number): void {
    if (this.answers === undefined) this.answer(Buffer.from([IAC, verb, option]));
    else this.answers.push(IAC, verb, option);
  }
}
