import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { PASSWORD_IN_CLEAR, PASSWORD_PROMPT, WRONG_PASSWORD } from '../lib/chat/texts';
import { type Harness, startHarness } from './support/client';
import { programOutput } from './support/program-output';

const IAC = 0xff;
const [WILL, WONT, DO, DONT] = [0xfb, 0xfc, 0xfd, 0xfe];
const IP = 0xf4;
const TIMING_MARK = 0x06;
const ECHO = 0x01;
const NAWS = 0x1f;
const TERMINAL_TYPE = 0x18;
const SECRET = 'correct-horse';
const JOINED = 'Welcome, ann\n*** ann just joined the chatroom\n';

/** A connection read as bytes, since telnet commands are not text. */
interface RawClient {
  readonly socket: Socket;
  /** Resolves once what was read holds `expected`, with all read so far; rejects at the close. */
  until(expected: Buffer | string): Promise<Buffer>;
  /** Everything read so far. */
  read(): Buffer;
}

async function rawClient(port: number): Promise<RawClient> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {});
  let received = Buffer.alloc(0);
  let wake = () => {};
  socket.on('data', (chunk: Buffer) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  socket.on('close', () => wake());
  await once(socket, 'connect');
  const until = async (expected: Buffer | string): Promise<Buffer> => {
    while (!received.includes(expected)) {
      if (socket.closed) throw new Error(`closed before ${JSON.stringify(String(expected))}`);
      await new Promise<void>((resolve) => (wake = resolve));
    }
    return received;
  };
  return { socket, until, read: () => received };
}

let harness: Harness | undefined;
const opened: Socket[] = [];

async function open(): Promise<RawClient> {
  harness ??= await startHarness();
  const client = await rawClient(harness.port);
  opened.push(client.socket);
  return client;
}

async function login(nick: string): Promise<RawClient> {
  const client = await open();
  await client.until('username: ');
  client.socket.write(`${nick}\r\n`);
  await client.until(`*** ${nick} just joined the chatroom`);
  return client;
}

/** Registers ann with SECRET, and leaves. */
async function registerAnn(): Promise<void> {
  const ann = await login('ann');
  ann.socket.write(`/register ${SECRET}\r\n`);
  await ann.until('will ask for your password\n');
  ann.socket.write('/quit\r\n');
  await once(ann.socket, 'close');
}

/** Connects, sends `first` (a telnet client's opening, or nothing) and the name ann, and reads
 * through the password prompt; returns the client and where what followed the username prompt starts. */
async function atPasswordPrompt(first: Buffer): Promise<{ ann: RawClient; start: number }> {
  const ann = await open();
  const start = (await ann.until('username: ')).length;
  ann.socket.write(Buffer.concat([first, Buffer.from('ann\r\n')]));
  await ann.until(PASSWORD_PROMPT);
  return { ann, start };
}

afterEach(async () => {
  for (const socket of opened.splice(0)) socket.destroy();
  await harness?.stop();
  harness = undefined;
});

describe('telnet over a socket', () => {
  it("answers an interrupt's DO TIMING-MARK at once, and the user goes on reading the room", async () => {
    const ann = await login('ann');
    const bob = await login('bob');
    ann.socket.write(Buffer.from([IAC, IP, IAC, DO, TIMING_MARK]));
    await ann.until(Buffer.from([IAC, WILL, TIMING_MARK]));
    bob.socket.write('still there?\r\n');
    await ann.until('[bob] still there?');
    const answered = ann.read().length;
    ann.socket.write(Buffer.from([IAC, IP, IAC, DO, TIMING_MARK, ...Buffer.from('me too\r\n')]));
    await bob.until('[ann] me too');
    expect((await ann.until('[ann] me too')).subarray(answered).includes(Buffer.from([IAC, WILL, TIMING_MARK]))).toBe(true);
  });

  it('refuses options it did not ask for, and answers no refusal', async () => {
    const ann = await open();
    await ann.until('username: ');
    ann.socket.write(Buffer.from([IAC, WILL, NAWS, IAC, DO, ECHO, IAC, WONT, ECHO, IAC, DONT, NAWS]));
    ann.socket.write('ann\r\n');
    await ann.until('*** ann just joined the chatroom');
    const commands = [...ann.read()].flatMap((byte, at, all) => (byte === IAC ? [all.slice(at, at + 3)] : []));
    expect(commands).toEqual([[IAC, DONT, NAWS], [IAC, WONT, ECHO]]);
  });

  it('sends no telnet command to a client that sent none', async () => {
    const ann = await login('ann');
    ann.socket.write('hello\n/help\n/quit\n');
    await once(ann.socket, 'close');
    expect(ann.read().toString()).toContain('[ann] hello');
    expect(ann.read().includes(IAC)).toBe(false);
  });
});

describe('the password prompt over a socket', () => {
  const bytes = (...values: number[]) => Buffer.from(values);
  const CRLF = '\r\n';

  it('asks a client that has sent a telnet command not to echo the password: WILL ECHO before each prompt, its line end echoed, WONT ECHO once the line is read', async () => {
    await registerAnn();
    const { ann, start } = await atPasswordPrompt(bytes(IAC, WILL, TERMINAL_TYPE)); // as a client's opening offer
    const wont = Buffer.concat([Buffer.from(CRLF), bytes(IAC, WONT, ECHO)]);
    // Each try as a telnet client answers: DO ECHO to the WILL, then DONT ECHO to the WONT, which
    // reaches chatd while the password is checked, so that the next prompt's WILL ECHO can go first.
    ann.socket.write(Buffer.concat([bytes(IAC, DO, ECHO), Buffer.from('wrong-one\r\n')]));
    await ann.until(wont);
    ann.socket.write(bytes(IAC, DONT, ECHO));
    await ann.until(Buffer.concat([Buffer.from(WRONG_PASSWORD), bytes(IAC, WILL, ECHO), Buffer.from(PASSWORD_PROMPT)]));
    ann.socket.write(Buffer.concat([bytes(IAC, DO, ECHO), Buffer.from(`${SECRET}\r\n`)]));
    await ann.until(JOINED);
    ann.socket.write(Buffer.concat([bytes(IAC, DONT, ECHO), Buffer.from('hi\r\n')]));
    await ann.until('[ann] hi\n');
    const prompt = Buffer.concat([bytes(IAC, WILL, ECHO), Buffer.from(PASSWORD_PROMPT), wont]);
    expect(ann.read().subarray(start)).toEqual(Buffer.concat([
      bytes(IAC, DONT, TERMINAL_TYPE), Buffer.from(PASSWORD_IN_CLEAR), prompt, Buffer.from(WRONG_PASSWORD), prompt, Buffer.from(`${JOINED}[ann] hi\n`),
    ]));
  });

  it('gives the echo back before the close when the input ends at the password prompt', async () => {
    await registerAnn();
    const { ann, start } = await atPasswordPrompt(bytes(IAC, WILL, TERMINAL_TYPE));
    ann.socket.end(bytes(IAC, DO, ECHO));
    await once(ann.socket, 'close');
    expect(ann.read().subarray(start)).toEqual(Buffer.concat([
      bytes(IAC, DONT, TERMINAL_TYPE), Buffer.from(PASSWORD_IN_CLEAR), bytes(IAC, WILL, ECHO), Buffer.from(PASSWORD_PROMPT), bytes(IAC, WONT, ECHO),
    ]));
  });

  it('sends a client that has sent no telnet command (nc) the texts alone, byte for byte', async () => {
    await registerAnn();
    const { ann, start } = await atPasswordPrompt(Buffer.alloc(0));
    ann.socket.write('wrong-one\n');
    await ann.until(`${WRONG_PASSWORD}${PASSWORD_PROMPT}`);
    ann.socket.write(`${SECRET}\n`);
    await ann.until(JOINED);
    expect(ann.read().subarray(start).toString()).toBe(`${PASSWORD_IN_CLEAR}${PASSWORD_PROMPT}${WRONG_PASSWORD}${PASSWORD_PROMPT}${JOINED}`);
    expect(ann.read().includes(IAC)).toBe(false);
  });
});

const haveTelnet = ['telnet', 'script'].every((tool) => spawnSync('which', [tool]).status === 0);

/**
 * The real telnet client on a terminal of its own (`script` makes one), read as it prints.
 * Given a port it negotiates nothing until the server does; given `-- host -port` (inetutils
 * telnet: the dash says the port speaks telnet) it opens with its own offers.
 */
function terminal(port: number, negotiating = false): { child: ChildProcessWithoutNullStreams; until: (expected: string) => Promise<string> } {
  const command = negotiating ? `telnet -- 127.0.0.1 -${port}` : `telnet 127.0.0.1 ${port}`;
  const child = spawn('script', ['-qfec', command, '/dev/null']);
  const until = programOutput(child, 'telnet');
  return { child, until };
}

const withTelnet = haveTelnet ? describe : process.env['CI'] === undefined ? describe.skip : describe;
if (!haveTelnet && process.env['CI'] === undefined) process.stderr.write('\nskipped the real telnet client spec: telnet or script is not installed (apt-get install telnet)\n');

withTelnet('the real telnet client (Debian telnet, on a terminal made by script)', () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(async () => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    child = undefined;
  });

  it('is not deafened by Ctrl-C: it still shows its own lines and the room after it', async () => {
    if (!haveTelnet) throw new Error('telnet or script is missing, and CI is set (apt-get install telnet)');
    harness = await startHarness();
    const ann = terminal(harness.port);
    child = ann.child;
    await ann.until('username: ');
    ann.child.stdin.write('ann\r');
    await ann.until('*** ann just joined the chatroom');
    const bob = await login('bob');
    ann.child.stdin.write('\x03'); // the terminal turns it into telnet's interrupt: IAC IP IAC DO TIMING-MARK
    ann.child.stdin.write('after the interrupt\r');
    await bob.until('[ann] after the interrupt');
    bob.socket.write('can you hear me?\r\n');
    await ann.until('[bob] can you hear me?');
    expect(await ann.until('[ann] after the interrupt')).toContain('^C');
  }, 20_000);

  /** Logs ann in at `ann`'s terminal with SECRET, after `wrong` if given, and says hello; returns all it printed. */
  async function logIn(ann: ReturnType<typeof terminal>, interrupt = false, wrong?: string): Promise<string> {
    child = ann.child;
    await ann.until('username: ');
    if (interrupt) ann.child.stdin.write('\x03'); // telnet's interrupt: a telnet command
    ann.child.stdin.write('ann\r');
    await ann.until('Password: ');
    if (wrong !== undefined) {
      ann.child.stdin.write(`${wrong}\r`);
      await ann.until('*** wrong password\r\nPassword: ');
    }
    ann.child.stdin.write(`${SECRET}\r`);
    await ann.until('*** ann just joined the chatroom');
    ann.child.stdin.write('hello\r');
    return ann.until('[ann] hello');
  }

  it('hides the password of a client that opened with telnet negotiation, shows whole lines between tries, and what is typed after it', async () => {
    if (!haveTelnet) throw new Error('telnet or script is missing, and CI is set (apt-get install telnet)');
    harness = await startHarness();
    await registerAnn();
    const printed = await logIn(terminal(harness.port, true), false, 'wrong-one');
    // The second try's echo is off once the client has answered the WONT ECHO, which on a loaded
    // machine may come after the prompt: only the first try is certain to be hidden.
    expect(printed).not.toContain('wrong-one');
    expect(printed).toContain('Password: \r\n*** wrong password\r\nPassword: ');
    expect(printed).toContain('\r\nWelcome, ann\r\n*** ann just joined the chatroom\r\nhello\r\n[ann] hello');
  }, 20_000);

  it("hides the password once the client has sent a telnet command (Ctrl-C), and shows it where it has sent none: chatd cannot tell it from nc", async () => {
    if (!haveTelnet) throw new Error('telnet or script is missing, and CI is set (apt-get install telnet)');
    harness = await startHarness();
    await registerAnn();
    expect(await logIn(terminal(harness.port), true)).toContain('Password: \r\nWelcome, ann');
    child?.kill('SIGKILL');
    if (child !== undefined) await once(child, 'exit');
    expect(await logIn(terminal(harness.port))).toContain(`${PASSWORD_IN_CLEAR.replace('\n', '\r\n')}Password: ${SECRET}\r\nWelcome, ann`);
  }, 20_000);
});
