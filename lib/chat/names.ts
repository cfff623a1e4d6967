import { hasControl } from './sanitize';

/** The longest username, in characters. */
export const MAX_NAME_LENGTH = 32;

/** The form two names share when they are the same user: `Bob` and `bob` are one. Never shown. */
export const nameKey = (name: string): string => name.normalize('NFC').toLowerCase();

/** Why a (trimmed) username breaks the rules, or undefined when it keeps them; uniqueness aside. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'username must not be empty';
  if (hasControl(name)) return 'username must not contain control characters';
  if (/\s/u.test(name)) return 'username must not contain spaces';
  if ([...name].length > MAX_NAME_LENGTH) return `username too long (max ${MAX_NAME_LENGTH} characters)`;
  return undefined;
}
