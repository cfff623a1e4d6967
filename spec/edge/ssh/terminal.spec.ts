import { Terminal } from '../../../lib/edge/ssh/terminal';
import { Screen } from '../../support/screen';

const BANNER = "Welcome to Jen's chat server!\nPlease enter your username: ";

/** A terminal `width` wide, the chat's output and the user's keys written to one screen. */
function session(width = 40, maxLineBytes = 4096) {
  const terminal = new Terminal(width, maxLineBytes);
  const screen = new Screen(width);
  const sent: string[] = [];
  let left = false;
  return {
    terminal,
    screen,
    sent,
    left: () => left,
    chat: (text: string) => screen.write(terminal.output(text)),
    type: (keys: string) => {
      const typed = terminal.input(keys);
      screen.write(typed.screen);
      sent.push(...typed.lines);
      left ||= typed.leave;
    },
  };
}

/** A session logged in as ann. */
function loggedIn(width = 40) {
  const user = session(width);
  user.chat(BANNER);
  user.type('ann\r');
  user.chat('Welcome, ann\n*** ann just joined the chatroom\n');
  return user;
}

describe('Terminal', () => {
  it("shows the chat's prompt, echoes the answer and leaves it on the screen", () => {
    const user = session();
    user.chat(BANNER);
    user.type('ann');
    expect(user.screen.lines()).toEqual(["Welcome to Jen's chat server!", 'Please enter your username: ann']);
    user.type('\r');
    expect(user.sent).toEqual(['ann']);
    user.chat('Welcome, ann\n*** ann just joined the chatroom\n');
    expect(user.screen.lines()).toEqual([
      "Welcome to Jen's chat server!", 'Please enter your username: ann', 'Welcome, ann', '*** ann just joined the chatroom', '[ann]',
    ]);
    expect(user.terminal.me).toBe('ann');
  });

  it('shows a first answer the door sent for the user after the first prompt', () => {
    const user = session();
    user.terminal.answerFirstPrompt('ann');
    user.chat(BANNER);
    expect(user.screen.lines()).toEqual(["Welcome to Jen's chat server!", 'Please enter your username: ann']);
  });

  it('writes lines that arrive while the user types above the line, which is drawn again below them', () => {
    const user = loggedIn();
    user.type('half a thou');
    user.chat('[bob] hello\n[cat] hi all\n');
    expect(user.screen.lines().slice(-3)).toEqual(['[bob] hello', '[cat] hi all', '[ann] half a thou']);
    user.type('ght\r');
    expect(user.sent).toEqual(['ann', 'half a thought']);
    expect(user.screen.lines().slice(-1)).toEqual(['[ann]']); // the chat sends it back as [ann] half a thought
  });

  it('keeps a command on the screen after Enter', () => {
    const user = loggedIn();
    user.type('/who\r');
    expect(user.screen.lines().slice(-2)).toEqual(['[ann] /who', '[ann]']);
  });

  it('deletes a wide character with one backspace, and counts its two columns', () => {
    const user = loggedIn();
    user.type('日本語');
    expect(user.screen.cursor().column).toBe('[ann] '.length + 6);
    user.type('\x7f');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] 日本']);
    expect(user.screen.cursor().column).toBe('[ann] '.length + 4);
    user.type('👍🏽\r');
    expect(user.sent.slice(-1)).toEqual(['日本👍🏽']);
  });

  it('moves left and right, Home and End, and types at the cursor', () => {
    const user = loggedIn();
    user.type('ac\x1b[Db\x1b[H>\x1b[F!\x1b[C\r');
    expect(user.sent.slice(-1)).toEqual(['>abc!']);
  });

  it('kills the line before the cursor (Ctrl-U) and the word before it (Ctrl-W)', () => {
    const user = loggedIn();
    user.type('one two  \x17three\r');
    expect(user.sent.slice(-1)).toEqual(['one three']);
    user.type('gone\x15kept\r');
    expect(user.sent.slice(-1)).toEqual(['kept']);
  });

  it('goes up and down through the lines typed before, and back to the one being typed', () => {
    const user = loggedIn(); // its username, typed at the prompt, is the oldest line
    user.type('first\rsecond\rdraft');
    user.type('\x1b[A');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] second']);
    user.type('\x1b[A');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] first']);
    user.type('\x1b[B\x1b[B');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] draft']);
  });

  it('completes a name seen in the chat with Tab, and what several names share', () => {
    const user = loggedIn();
    user.chat('*** bobby just joined the chatroom\n[bobcat] meow\n*** 3 in #main: ann, bobby, carol (away: lunch)\n');
    user.type('hi car\t');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] hi carol']);
    user.type('and bo\t');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] hi carol and bob']);
    user.type('c\t!\r');
    expect(user.sent.slice(-1)).toEqual(['hi carol and bobcat !']);
  });

  it('learns a new name from its own rename, and prompts with it', () => {
    const user = loggedIn();
    user.chat('*** ann is now known as anna\n');
    expect(user.screen.lines().slice(-1)).toEqual(['[anna]']);
  });

  it('wraps a line longer than a row, and follows the window as it changes', () => {
    const user = loggedIn(12);
    user.type('abcdefghijkl');
    expect(user.screen.lines().slice(-2)).toEqual(['[ann] abcdef', 'ghijkl']);
    user.chat('[bob] yo\n');
    expect(user.screen.lines().slice(-3)).toEqual(['[bob] yo', '[ann] abcdef', 'ghijkl']);
    const wide = new Screen(20);
    wide.write(user.terminal.resize(20));
    expect(wide.lines()).toEqual(['[ann] abcdefghijkl']);
  });

  it('wraps a wide character that does not fit at the end of a row to the next', () => {
    const user = loggedIn(10);
    user.type('abc日');
    expect(user.screen.lines().slice(-2)).toEqual(['[ann] abc', '日']);
  });

  it('shows nothing typed at the Password: prompt and keeps it from the history', () => {
    const user = session();
    user.chat(BANNER);
    user.type('ann\r');
    user.chat('Password: ');
    user.type('s3cret');
    expect(user.screen.lines().slice(-1)).toEqual(['Password:']);
    user.type('\r');
    expect(user.sent).toEqual(['ann', 's3cret']);
    user.chat('Welcome, ann\n');
    user.type('\x1b[A');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] ann']);
  });

  it('hides what is typed while concealed', () => {
    const user = loggedIn();
    user.screen.write(user.terminal.conceal(true));
    user.type('hidden');
    expect(user.screen.lines().slice(-1)).toEqual(['[ann]']);
    user.screen.write(user.terminal.conceal(false));
    expect(user.screen.lines().slice(-1)).toEqual(['[ann] hidden']);
  });

  it('drops escape sequences it does not handle, never echoing or sending them', () => {
    const user = loggedIn();
    user.type('a\x1b[15~b\x1bOPc\x1b]0;title\x07d\x1bxe\x1b[1;5Cf\x01\x1b[<0;1;1Mg');
    user.type('\x1b');
    user.type('[2');
    user.type('1~h\r');
    expect(user.sent.slice(-1)).toEqual(['ghabcdef']);
  });

  it('sends a pasted block as its lines', () => {
    const user = loggedIn();
    user.type('one\r\ntwo\rthree\n');
    expect(user.sent.slice(1)).toEqual(['one', 'two', 'three']);
  });

  it('leaves on Ctrl-D on an empty line, and on a second Ctrl-C in a row', () => {
    const user = loggedIn();
    user.type('text\x04');
    expect(user.left()).toBe(false);
    user.type('\x15\x04');
    expect(user.left()).toBe(true);
    const other = loggedIn();
    other.type('\x03x\x03');
    expect(other.left()).toBe(false);
    other.type('\x03');
    expect(other.left()).toBe(true);
  });

  it('takes no more than the line bound', () => {
    const user = session(40, 5);
    user.type('abcdefg\r');
    expect(user.sent).toEqual(['abcde']);
  });

  it('draws the line once for the keys of one read, however many they are', () => {
    const user = loggedIn(80);
    user.type('x'.repeat(300));
    const drawn = user.terminal.input(`${'\x1b[D'.repeat(1000)}${'\x0c'.repeat(1000)}\x1b[C`).screen;
    expect(drawn.length).toBeLessThan(400);
    user.screen.write(drawn);
    expect(user.screen.cursor()).toEqual({ row: user.screen.lines().length - 4, column: 7 });
  });

  it('takes the line being typed off the screen at the close, leaving the cursor at the start of a fresh row', () => {
    const user = loggedIn(12);
    user.type('half typed line');
    user.chat('*** bye\n');
    user.screen.write(user.terminal.close());
    expect(user.screen.lines().slice(-1)).toEqual(['*** bye']);
    expect(user.screen.cursor()).toEqual({ row: user.screen.lines().length, column: 0 });
    expect(user.terminal.close()).toBe('');
  });

  it('draws no prompt after the user left, whatever the chat still sends', () => {
    const user = loggedIn();
    user.type('\x04');
    user.screen.write(user.terminal.conceal(false));
    user.chat('*** goodbye\n');
    user.screen.write(user.terminal.resize(30));
    expect(user.screen.lines().slice(-2)).toEqual(['*** ann just joined the chatroom', '*** goodbye']);
    expect(user.screen.cursor().column).toBe(0);
  });

  it('erases the line from where a terminal that rewraps its rows has put the cursor, wider or narrower', () => {
    const user = loggedIn(12);
    user.type('abcdefghijklmnopq'); // '[ann] abcdef', 'ghijklmnopq'
    const wider = new Screen(24);
    wider.write('[bob] yo\r\n[ann] abcdefghijklmnopq'); // the rows as rewrapped by the terminal
    wider.write(user.terminal.resize(24));
    expect(wider.lines()).toEqual(['[bob] yo', '[ann] abcdefghijklmnopq']);
    const narrower = new Screen(8);
    narrower.write('[bob] yo\r\n[ann] abcdefghijklmnopq');
    narrower.write(user.terminal.resize(8));
    expect(narrower.lines()).toEqual(['[bob] yo', '[ann] ab', 'cdefghij', 'klmnopq']);
  });
});
