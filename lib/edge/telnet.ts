/**
 * Telnet command removal. A telnet client mixes IAC sequences into its input; they are
 * protocol, not text, so they are removed before lines are split and lengths counted.
 */

const IAC = 0xff;
const SB = 0xfa; // subnegotiation begins: everything up to IAC SE is option data
const SE = 0xf0;
const WILL = 0xfb; // WILL, WONT, DO and DONT (0xfb to 0xfe) are followed by one option byte

enum State {
  Data,
  Command, // after IAC
  Option, // after IAC WILL/WONT/DO/DONT
  Subnegotiation, // after IAC SB
  SubnegotiationCommand, // after IAC inside a subnegotiation
}

/** Whether a chunk holds a telnet command (IAC), which needs a filter; nc sends none. */
export const hasTelnetCommand = (chunk: Buffer): boolean => chunk.includes(IAC);

/**
 * A telnet filter for one connection: `strip` takes each chunk in order and returns its text
 * bytes. It keeps state between chunks, so a sequence split across two reads is still removed
 * whole. IAC IAC is the escaped data byte 0xff. An object, not a closure: an object with one
 * field is the smallest way to keep that state, for each connection that sends telnet commands.
 */
export class TelnetFilter {
  private state = State.Data;

  strip(chunk: Buffer): Buffer {
    let state = this.state;
    if (state === State.Data && !chunk.includes(IAC)) return chunk; // the common case copies nothing
    const text = Buffer.allocUnsafe(chunk.length);
    let length = 0;
    for (const byte of chunk) {
      switch (state) {
        case State.Data:
          if (byte === IAC) state = State.Command;
          else text[length++] = byte;
          break;
        case State.Command:
          if (byte === IAC) text[length++] = byte;
          state = byte === SB ? State.Subnegotiation : byte >= WILL && byte !== IAC ? State.Option : State.Data;
          break;
        case State.Option:
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
    return text.subarray(0, length);
  }
}
