import { isIP } from 'node:net';
import { nameProblem } from '../chat/names';
import type { MetricsAddress } from '../edge/metrics';
import { MAX_TIMER_MS } from '../option-rules';
import { isProxyEntry } from '../edge/web/proxy';

/** How a flag is declared, read from argv or the environment, and its value checked: the table of
 * flags itself is in settings.ts, so that a new flag is one entry there. */

/** A command-line mistake: usage goes to stderr and the exit code is 2. */
export class UsageError extends Error {
  readonly code = 'CHAT_USAGE';
}

/** One option: its flag, its environment variable, and what `--help` says of it. */
export type Setting<T> = {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly fallback: string;
  readonly apply: (value: string, into: T) => void;
} & (
  /** A flag that takes no value; its variable is 1, true, 0 or false. */
  | { readonly toggle: true }
  /** What the value is, as `--help` shows it after the flag: `<port>`, `<seconds>`, `<file>`. */
  | { readonly value: string }
);

/** `T` with its fields writable: a draft the flags fill in. */
export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A whole number from `min` to `max`, or a UsageError naming `flag`. */
export function count(flag: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || number < min || number > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
    throw new UsageError(`--${flag} must be a whole number ${range}, not '${value}'`);
  }
  return number;
}

/** Any text but none. */
export function given(flag: string, value: string): string {
  if (value === '') throw new UsageError(`--${flag} must not be empty`);
  return value;
}

/** One of `allowed`, as given. */
export function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  const found = allowed.find((each) => each === value);
  if (found === undefined) throw new UsageError(`--${flag} must be one of ${allowed.join(', ')}, not '${value}'`);
  return found;
}

/** A toggle's value from its variable. */
export function toggle(flag: string, value: string): boolean {
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new UsageError(`--${flag} is on or off: its variable is 1, true, 0 or false, not '${value}'`);
}

/** `HOST:PORT`, `[IPV6]:PORT`, or a port alone, which listens on the loopback interface. */
export function listenAddress(flag: string, value: string): MetricsAddress {
  const [, bracketed, named, port = value] = /^(?:\[([^\]]+)\]|([^:]+)):([^:]*)$/.exec(value) ?? [];
  const host = bracketed ?? named ?? (/^\d+$/.test(value) ? '127.0.0.1' : undefined);
  if (host === undefined) throw new UsageError(`--${flag} must be HOST:PORT or PORT, not '${value}'`);
  return { host, port: count(flag, port, 0, 65535) };
}

/** `ann,bob`: names by the login rules, separated by commas. */
export function names(flag: string, value: string): string[] {
  const found = value.split(',').map((name) => name.trim()).filter((name) => name !== '');
  if (found.length === 0) throw new UsageError(`--${flag} must name someone: registered names, comma-separated, not '${value}'`);
  for (const name of found) {
    const problem = nameProblem(name);
    if (problem !== undefined) throw new UsageError(`--${flag}: '${name}': ${problem}`);
  }
  return found;
}

/** `192.0.2.7,2001:db8::1`: IP addresses separated by commas, or `none`. */
export function addresses(flag: string, value: string): string[] {
  if (value.trim() === 'none') return [];
  const found = value.split(',').map((address) => address.trim()).filter((address) => address !== '');
  const wrong = found.find((address) => isIP(address) === 0);
  if (wrong !== undefined) throw new UsageError(`--${flag}: '${wrong}' is not an IP address`);
  if (found.length === 0) throw new UsageError(`--${flag} needs IP addresses, comma-separated, or none`);
  return found;
}

/** A number above 0, a fraction too. */
/** `https://chat.example.org,http://localhost:8080`: origins (scheme, host, port) separated by commas. */
export function origins(flag: string, value: string): string[] {
  const found = value.split(',').map((origin) => origin.trim()).filter((origin) => origin !== '');
  for (const origin of found) {
    const parsed = URL.canParse(origin) ? new URL(origin).origin : 'null';
    if (parsed === 'null' || parsed !== origin.toLowerCase().replace(/\/$/, '')) throw new UsageError(`--${flag}: '${origin}' is not an origin such as https://chat.example.org`);
  }
  if (found.length === 0) throw new UsageError(`--${flag} needs origins, comma-separated`);
  return found;
}

/** `10.0.0.0/8,192.0.2.7`: addresses and CIDR blocks separated by commas. */
export function proxies(flag: string, value: string): string[] {
  const found = value.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '');
  const wrong = found.find((entry) => !isProxyEntry(entry));
  if (wrong !== undefined || found.length === 0) {
    throw new UsageError(`--${flag} needs addresses or CIDR blocks, comma-separated${wrong === undefined ? '' : `: '${wrong}' is neither`}`);
  }
  return found;
}

export function positive(flag: string, value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number <= 0) {
    throw new UsageError(`--${flag} must be a number above 0, not '${value}'`);
  }
  return number;
}

/** A time in seconds above 0, as milliseconds: no longer than a Node timer keeps, which fires at once past it. */
export function seconds(flag: string, value: string): number {
  const ms = positive(flag, value) * 1000;
  if (ms > MAX_TIMER_MS) throw new UsageError(`--${flag} must be at most ${MAX_TIMER_MS / 1000} seconds, not '${value}'`);
  return ms;
}

/** Applies each of `settings` given by a flag or, failing that, by the environment; an empty
 * variable counts as unset, as a shell's `VAR= chatd` means. */
export function applySettings<T>(settings: readonly Setting<T>[], flags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv, into: T): void {
  for (const setting of settings) {
    const fromEnv = env[setting.env];
    const value = flags.get(setting.flag) ?? (fromEnv === '' ? undefined : fromEnv);
    if (value !== undefined) setting.apply(value, into);
  }
}

/**
 * The flags of `argv` by name, the last of a repeated one winning, or 'help' or 'version'. A
 * value is the next argument whatever it starts with (`--history -1` is a value chatd refuses in
 * its own words), or follows `=`; a toggle takes a value only after `=`. Only `settingOfFlag`'s flags are known.
 */
export function readFlags(argv: readonly string[], settingOfFlag: ReadonlyMap<string, Setting<never>>): Map<string, string> | 'help' | 'version' {
  const flags = new Map<string, string>();
  for (let at = 0; at < argv.length; at++) {
    const arg = argv[at] ?? '';
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '-v' || arg === '--version') return 'version';
    const [, name = '', inline] = /^--([^=]+)(?:=(.*))?$/s.exec(arg) ?? [];
    const setting = settingOfFlag.get(name);
    if (setting === undefined) throw new UsageError(name === '' ? `unexpected argument '${arg}'` : `unknown option --${name}`);
    if ('toggle' in setting) flags.set(name, inline ?? 'true');
    else {
      const value = inline ?? argv[++at];
      if (value === undefined) throw new UsageError(`--${name} needs a value: --${name} ${setting.value}`);
      flags.set(name, value);
    }
  }
  return flags;
}
