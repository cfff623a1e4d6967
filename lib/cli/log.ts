import type { ModerationAction } from '../chat/moderation';
import { escapeControls } from '../chat/sanitize';
import type { ServerEvent } from '../server-event';
import type { AccountChange } from '../store/registry';

/** How much is logged, and how. */
export interface LogOptions {
  readonly format: LogFormat;
  readonly level: LogLevel;
}

export type LogFormat = 'text' | 'json';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

/** Every level, the most severe first: a level logs itself and those before it. */
export const LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug'];
export const FORMATS: readonly LogFormat[] = ['text', 'json'];

export const DEFAULT_LOG_OPTIONS: LogOptions = { format: 'text', level: 'info' };

/** One log line before it is formatted: its level, its event's name and fields, its text. */
export interface LogEntry {
  readonly level: LogLevel;
  readonly event: string;
  readonly fields: Readonly<Record<string, string | number | boolean>>;
  /** The line as the text format shows it, after the time. */
  readonly text: string;
}

export const entry = (level: LogLevel, event: string, text: string, fields: Record<string, string | number | boolean> = {}): LogEntry =>
  ({ level, event, fields, text });

/** A server event as a log entry. No chat text but a `said` or `acted` event's, which only `--log-chat` reports. */
export function logEntry(event: ServerEvent): LogEntry {
  switch (event.kind) {
    case 'connect': {
      const door = event.door ?? (event.tls ? 'tls' : undefined);
      const text = `connect #${event.id} from ${event.from}${door === undefined ? '' : ` (${door})`}`;
      return entry('info', 'connect', text, { id: event.id, from: event.from, tls: event.tls, ...(event.door === undefined ? {} : { door: event.door }) });
    }
    case 'handshake-failed':
      return entry('warn', 'handshake-failed', `TLS handshake failed from ${event.from} (${event.reason})`, { from: event.from, reason: event.reason });
    case 'ssh-failed':
      return entry('warn', 'handshake-failed', `SSH login failed from ${event.from} (${event.reason})`, { from: event.from, reason: event.reason, ssh: true });
    case 'ssh-refused': return entry('warn', 'ssh-refused', `refused ${event.request} from ${event.from}`, { from: event.from, request: event.request });
    case 'ssh-host-key': {
      const where = event.file === undefined ? 'given' : `${event.created ? 'made in' : 'from'} ${event.file}`;
      return entry('info', 'ssh-host-key', `SSH host key ${event.fingerprint} (${where})`, { fingerprint: event.fingerprint, ...(event.file === undefined ? {} : { file: event.file }), created: event.created });
    }
    case 'login': return entry('info', 'login', `login #${event.id} ${event.nick}`, { id: event.id, nick: event.nick });
    case 'rename': return entry('info', 'rename', `rename #${event.id} ${event.from} -> ${event.nick}`, { id: event.id, from: event.from, nick: event.nick });
    case 'logout': return entry('info', 'logout', `logout #${event.id} ${event.nick}`, { id: event.id, nick: event.nick });
    case 'said':
    case 'acted': return entry('debug', event.kind, `${event.kind} #${event.id} in ${event.room}: ${event.text}`, { id: event.id, room: event.room, text: event.text });
    case 'node': return entry('info', 'node', `cluster node ${event.node}: its connections are #${event.node}:N`, { node: event.node });
    case 'disconnect': {
      const fields = { id: event.id, reason: event.reason, ...(event.error === undefined ? {} : { error: event.error }) };
      const why = event.error === undefined ? event.reason : `${event.reason}: ${event.error}`;
      return entry('info', 'disconnect', `disconnect #${event.id} (${why})`, fields);
    }
    case 'full': return entry('warn', 'refused', `refused ${event.from}: server full`, { from: event.from, reason: 'full' });
    case 'per_address':
      return entry('warn', 'refused', `refused ${event.from}: too many connections from its address`, { from: event.from, reason: 'per_address' });
    case 'connect_rate':
      return entry('warn', 'refused', `refused ${event.from}: connecting too fast`, { from: event.from, reason: 'connect_rate' });
    case 'moderation': return moderationEntry(event.action);
    case 'account': return accountEntry(event.change);
    case 'bus': return entry('warn', 'bus', event.message, { message: event.message });
    case 'error': return entry('error', 'error', `error: ${event.error.message}`, { message: event.error.message });
  }
}

/** An operator's action as a log entry, with who did it. */
function moderationEntry({ action, by, target, detail }: ModerationAction): LogEntry {
  const text = `${action}${target === '' ? '' : ` ${target}`} by ${by}${detail === '' ? '' : ` (${detail})`}`;
  return entry('info', action, text, { by, ...(target === '' ? {} : { target }), ...(detail === '' ? {} : { detail }) });
}

/** An account change as a log entry: who and from where, never a password. */
function accountEntry(change: AccountChange): LogEntry {
  switch (change.kind) {
    case 'registered': return entry('info', 'register', `register ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'password-changed':
      return entry('info', 'password-changed', `password changed for ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'key-added': case 'key-removed': {
      const what = change.kind === 'key-added' ? 'key added' : 'key removed';
      return entry('info', change.kind, `${what} for ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    }
    case 'unregistered': return entry('info', 'unregister', `unregister ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'released':
      return entry('info', 'release', `release ${change.name} by ${change.by} from ${change.from}`, { name: change.name, by: change.by, from: change.from });
    case 'expired': {
      const registered = new Date(change.registeredAt).toISOString();
      return entry('info', 'expire', `expire ${change.name}: registered ${registered}, never logged into since`, { name: change.name, registered });
    }
    case 'registrations-limited':
      return entry('warn', 'registrations-limited', `refused to register ${change.name} from ${change.from}: too many registrations from that address this hour`, { name: change.name, from: change.from });
    case 'wrong-password':
      return entry('warn', 'wrong-password', `wrong password for ${change.name} from ${change.from}`, { name: change.name, from: change.from });
    case 'slowed': {
      const whose = change.what === 'address' ? `from ${change.key}` : `of name ${change.key}`;
      return entry('warn', 'guessing-slowed', `password checks ${whose} are slowed: too many wrong ones lately`, { what: change.what, key: change.key });
    }
    case 'save-failed':
    case 'read-failed': return entry('error', 'error', `error: ${change.error.message}`, { message: change.error.message });
    case 'check-failed':
      return entry('error', 'check-failed', `could not check a password or make an account change: ${change.error.message}`, { message: change.error.message });
  }
}

/** The line for `entry` at `time`, or undefined when `options.level` leaves it out. */
export function formatEntry(logged: LogEntry, options: LogOptions, time: Date): string | undefined {
  if (LEVELS.indexOf(logged.level) > LEVELS.indexOf(options.level)) return undefined;
  if (options.format === 'text') return `${time.toISOString()} ${escapeControls(logged.text)}\n`;
  return `${JSON.stringify({ time: time.toISOString(), level: logged.level, event: logged.event, ...logged.fields })}\n`;
}

/**
 * A logger to stdout with `options`. A log whose reader has gone (`chatd | head`, a closed
 * terminal) fails its writes with EPIPE: chatd goes on serving, and logs no more.
 */
export function logger(options: LogOptions): (logged: LogEntry) => void {
  let readerGone = false;
  // Kept, not once: writes the pipe had taken before it broke may each fail after the first.
  process.stdout.on('error', () => {
    readerGone = true;
  });
  return (logged) => {
    const line = formatEntry(logged, options, new Date());
    if (line !== undefined && !readerGone) process.stdout.write(line);
  };
}
