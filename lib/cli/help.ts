import { ALL_SETTINGS } from './settings';


/** The widest `--help` is, in columns, so that it reads whole in a terminal of that width. */
export const HELP_COLUMNS = 100;

/** `text` in lines of at most `width` columns, broken between words; a longer word stands alone. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line];
}

/** `text` wrapped to `width`, then `aside` after it: on its last line if it fits there whole. */
function describe(text: string, aside: string, width: number): string[] {
  const lines = wrap(text, width);
  const last = lines.pop() ?? '';
  if (aside === '') return [...lines, last];
  return last.length + 1 + aside.length <= width ? [...lines, `${last} ${aside}`] : [...lines, last, ...wrap(aside, width)];
}

/** The text of `chatd --help`: a row for each option, its description in one column beside the flags. */
export function usage(): string {
  const entries: [string, string, string][] = [
    ...ALL_SETTINGS.map((s): [string, string, string] => [`--${s.flag}${'value' in s ? ` ${s.value}` : ''}`, s.help, `(env ${s.env}, default ${s.fallback})`]),
    ['-h, --help', 'print this help and exit', ''],
    ['-v, --version', 'print the version and exit', ''],
  ];
  const column = 2 + Math.max(...entries.map(([flags]) => flags.length)) + 2;
  const rows = entries.flatMap(([flags, text, aside]) =>
    describe(text, aside, HELP_COLUMNS - column).map((line, at) => `${at === 0 ? `  ${flags}`.padEnd(column) : ' '.repeat(column)}${line}`));
  return [
    'Usage: chatd [options]',
    '       chatd accounts list | accounts remove NAME',
    '             [--data-dir <dir> | --redis <url> [--redis-prefix <prefix>]]',
    '',
    'A chat server for nc and telnet. Flags override the environment.', '', ...rows, ''].join('\n');
}
