/** Durations: how `/ban` and `/mute` read them, and how replies and `/uptime` show them. */

/** The longest a ban or a mute may be given for, in seconds: a year. */
export const MAX_DURATION_SECONDS = 365 * 86_400;

const UNIT_SECONDS: ReadonlyMap<string, number> = new Map(Object.entries({ s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 }));

/** True when `word` has the form of a duration (`30s`, `10m`, `2h`, `1d`, `1w`), in range or not. */
export const looksLikeDuration = (word: string): boolean => /^\d+[smhdw]$/iu.test(word);

/**
 * `10m` as milliseconds; a string saying why when `word` is not a duration from 1 second to
 * MAX_DURATION_SECONDS.
 */
export function parseDuration(word: string): number | string {
  const [, digits = '', unit = ''] = /^(\d+)([smhdw])$/iu.exec(word) ?? [];
  const seconds = Number(digits) * (UNIT_SECONDS.get(unit.toLowerCase()) ?? 0);
  if (!(seconds >= 1 && seconds <= MAX_DURATION_SECONDS)) {
    return `a duration is a number and s, m, h, d or w, from 1s to ${MAX_DURATION_SECONDS / 86_400}d`;
  }
  return seconds * 1000;
}

/** `1h 2m 3s`, `4m 0s`, `5s`: the largest units that are not zero, down to seconds. */
export function duration(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const units: [number, string][] = [[Math.floor(seconds / 86400), 'd'], [Math.floor(seconds / 3600) % 24, 'h'], [Math.floor(seconds / 60) % 60, 'm'], [seconds % 60, 's']];
  const first = units.findIndex(([value]) => value > 0);
  return units.slice(first === -1 ? units.length - 1 : first).map(([value, unit]) => `${value}${unit}`).join(' ');
}

/** When a ban or a mute ends (`until 2026-01-02T03:04:05.000Z`), or `for good` when it never does. */
export const termEnd = (until: number | null): string => (until === null ? 'for good' : `until ${new Date(until).toISOString()}`);
