import { COMMANDS, firstWord, readLine, usageOf } from '../../lib/chat/commands';

describe('readLine', () => {
  it.each([
    ['hello', 'hello'],
    ['', ''],
    [' /nick bob', ' /nick bob'],
    ['//nick bob', '/nick bob'],
    ['//', '/'],
    ['///', '//'],
  ])('reads %j as the chat line %j', (line, text) => {
    expect(readLine(line)).toEqual({ kind: 'chat', text });
  });

  it.each([
    ['/help', 'help', ''],
    ['/HELP', 'help', ''],
    ['/Nick  Bob ', 'nick', 'Bob'],
    ['/nick\tbob', 'nick', 'bob'],
    ['/msg bob  hi  there ', 'msg', 'bob  hi  there'],
    ['/names', 'who', ''],
    ['/users', 'who', ''],
    ['/w bob hi', 'msg', 'bob hi'],
    ['/r hi', 'reply', 'hi'],
    ['/quit bye all', 'quit', 'bye all'],
  ])('reads %j as the command %s with the arguments %j', (line, name, args) => {
    expect(readLine(line)).toEqual({ kind: 'command', name, args });
  });

  it('reads every command and alias by its name, in any case', () => {
    for (const { name, aliases } of COMMANDS) {
      for (const word of [name, ...aliases]) {
        expect(readLine(`/${word.toUpperCase()} x`)).toEqual({ kind: 'command', name, args: 'x' });
      }
    }
  });

  it.each([
    ['/frobnicate', 'frobnicate'],
    ['/Frob now', 'Frob'],
    ['/', ''],
    ['/ help', ''],
    ['/help!', 'help!'],
  ])('reads %j as the unknown command %j, keeping its spelling', (line, name) => {
    expect(readLine(line)).toEqual({ kind: 'unknown', name });
  });

  it('keeps a line break inside the arguments, as cleanText would have removed it before', () => {
    expect(readLine('/me a\nb')).toEqual({ kind: 'command', name: 'me', args: 'a\nb' });
  });
});

describe('firstWord', () => {
  it.each([
    ['bob hi there', 'bob', 'hi there'],
    ['bob   hi', 'bob', 'hi'],
    ['bob\thi', 'bob', 'hi'],
    ['bob', 'bob', ''],
    ['', '', ''],
    [' bob hi', '', 'bob hi'],
    ['bob a\nb', 'bob', 'a\nb'],
  ])('splits %j into %j and %j', (args, word, rest) => {
    expect(firstWord(args)).toEqual([word, rest]);
  });
});

describe('usageOf', () => {
  it.each([
    ['help', '/help'],
    ['who', '/who'],
    ['nick', '/nick NEW'],
    ['msg', '/msg NAME TEXT'],
    ['away', '/away [REASON]'],
    ['quit', '/quit [MESSAGE]'],
  ] as const)('shows /%s as %j', (name, usage) => {
    expect(usageOf(name)).toBe(usage);
  });
});

describe('COMMANDS', () => {
  it('has one entry per command and no alias twice', () => {
    const words = COMMANDS.flatMap(({ name, aliases }) => [name, ...aliases]);
    expect(new Set(words).size).toBe(words.length);
    expect(COMMANDS.map(({ name }) => name)).toEqual([
      'help', 'who', 'nick', 'me', 'msg', 'reply', 'away', 'back', 'ignore', 'unignore', 'join', 'rooms', 'topic', 'whois', 'uptime', 'register', 'password', 'unregister',
      'keys', 'motd', 'op', 'deop', 'kick', 'ban', 'unban', 'bans', 'mute', 'unmute', 'stats', 'quit',
    ]);
  });
});
