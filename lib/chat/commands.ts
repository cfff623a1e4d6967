/** What users can type: the commands, their usage lines, and how a line is read as one. */
import { cleanText } from './sanitize';

export type CommandName =
  | 'help' | 'who' | 'nick' | 'me' | 'msg' | 'reply' | 'away' | 'back' | 'ignore' | 'unignore'
  | 'join' | 'rooms' | 'topic' | 'quit' | 'whois' | 'uptime' | 'register' | 'password' | 'unregister'
  | 'keys'
  | 'motd' | ModerationCommand;

/** The commands for operators alone. */
export type ModerationCommand = 'op' | 'deop' | 'kick' | 'ban' | 'unban' | 'bans' | 'mute' | 'unmute' | 'stats';

interface CommandInfo {
  readonly name: CommandName;
  readonly aliases: readonly string[];
  /** The arguments as `/help` and a usage reply show them. */
  readonly args: string;
  readonly help: string;
}

/** Every command, in the order `/help` lists them. */
export const COMMANDS: readonly CommandInfo[] = [
  { name: 'help', aliases: [], args: '', help: 'list the commands' },
  { name: 'who', aliases: ['names', 'users'], args: '', help: 'who is in your room (also /names, /users)' },
  { name: 'nick', aliases: [], args: 'NEW', help: 'change your name' },
  { name: 'me', aliases: [], args: 'ACTION', help: 'say what you are doing: * you ACTION' },
  { name: 'msg', aliases: ['w'], args: 'NAME TEXT', help: 'a private message to NAME, in any room (also /w)' },
  { name: 'reply', aliases: ['r'], args: 'TEXT', help: 'answer your last private message (also /r)' },
  { name: 'away', aliases: [], args: '[REASON]', help: 'mark yourself away' },
  { name: 'back', aliases: [], args: '', help: 'you are no longer away' },
  { name: 'ignore', aliases: [], args: '[NAME]', help: "hide NAME's lines from you; alone, list whom you ignore" },
  { name: 'unignore', aliases: [], args: 'NAME', help: "show NAME's lines again" },
  { name: 'join', aliases: [], args: 'ROOM', help: 'move to ROOM (made if new)' },
  { name: 'rooms', aliases: [], args: '', help: 'the rooms and how many are in each' },
  { name: 'topic', aliases: [], args: '[TEXT]', help: "show or set your room's topic" },
  { name: 'whois', aliases: [], args: 'NAME', help: 'room, away, connected and idle time of NAME' },
  { name: 'uptime', aliases: [], args: '', help: 'how long the server has been up' },
  { name: 'register', aliases: [], args: 'PASSWORD', help: 'reserve your name: logging in with it asks for PASSWORD' },
  { name: 'password', aliases: [], args: 'OLD NEW', help: 'change the password of your registered name' },
  { name: 'unregister', aliases: [], args: 'PASSWORD', help: 'release your registered name (operators: NAME releases that one)' },
  { name: 'keys', aliases: [], args: '[add|remove FP]', help: "the SSH keys that open your registered name; add ties this connection's" },
  { name: 'motd', aliases: [], args: '[TEXT]', help: 'show the message of the day; operators set it (- clears it)' },
  { name: 'op', aliases: [], args: 'NAME', help: '(operators) make NAME, logged in with its password, an operator' },
  { name: 'deop', aliases: [], args: 'NAME', help: '(operators) NAME is no longer an operator' },
  { name: 'kick', aliases: [], args: 'NAME [REASON]', help: '(operators) disconnect NAME; their room is told why' },
  { name: 'ban', aliases: [], args: 'NAME [DURATION] [REASON]', help: '(operators) disconnect and refuse NAME and their address (e.g. 2h; for good if not given)' },
  { name: 'unban', aliases: [], args: 'NAME|ADDRESS', help: '(operators) lift a ban' },
  { name: 'bans', aliases: [], args: '', help: '(operators) list the bans' },
  { name: 'mute', aliases: [], args: 'NAME [DURATION]', help: "(operators) NAME's lines reach only them (10m if not given)" },
  { name: 'unmute', aliases: [], args: 'NAME', help: '(operators) lift a mute' },
  { name: 'stats', aliases: [], args: '', help: "(operators) the server's figures: connections, disconnects, lines, bytes" },
  { name: 'quit', aliases: [], args: '[MESSAGE]', help: 'leave the chat; your room sees the usual leave line, not MESSAGE' },
];

const BY_NAME = new Map<string, CommandName>(COMMANDS.flatMap((info) => [info.name, ...info.aliases].map((name) => [name, info.name])));

/** `/msg NAME TEXT`: how a command is used, as its usage reply shows it. */
export function usageOf(name: CommandName): string {
  const info = COMMANDS.find((command) => command.name === name);
  return `/${name}${info === undefined || info.args === '' ? '' : ` ${info.args}`}`;
}

/** What a line typed after login asks for. */
export type Typed =
  | { readonly kind: 'chat'; readonly text: string }
  | { readonly kind: 'command'; readonly name: CommandName; readonly args: string }
  | { readonly kind: 'unknown'; readonly name: string };

/**
 * Reads a line: one that starts with `/` is a command (its name in any case, then its
 * arguments, trimmed) and never chat; `//text` is the chat line `/text`.
 */
export function readLine(line: string): Typed {
  if (!line.startsWith('/')) return { kind: 'chat', text: line };
  if (line.startsWith('//')) return { kind: 'chat', text: line.slice(1) };
  const [, word = '', args = ''] = /^\/(\S*)\s*(.*)$/su.exec(line) ?? [];
  const name = BY_NAME.get(word.toLowerCase());
  return name === undefined ? { kind: 'unknown', name: word } : { kind: 'command', name, args: args.trim() };
}

/** Splits the first word off the arguments: `bob hi there` is `bob` and `hi there`. */
export function firstWord(args: string): readonly [string, string] {
  const [, word = '', rest = ''] = /^(\S*)\s*(.*)$/su.exec(args) ?? [];
  return [word, rest];
}

/**
 * A line cleaned of what could act on a terminal, but for `/nick`: a name is judged as typed, and
 * refused with the reason, as at login; cleaned, it renamed its sender to what was left of it.
 */
export function asTyped(line: string): string {
  const typed = readLine(line);
  return typed.kind === 'command' && typed.name === 'nick' ? line : cleanText(line);
}
