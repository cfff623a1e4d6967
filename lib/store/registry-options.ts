import { asyncScheduler, type SchedulerLike } from 'rxjs';
import { PASSWORD_CHECKS_AT_ONCE } from './check-queue';
import { CHECK_ANSWER_GRACE_MS, DEFAULT_GUESS_LIMITS, type GuessLimits, type Slowed } from './throttle';
import { SCRYPT_COST } from './passwords';

/** The registry's settings, their defaults, and what it reports for a log. */

/** Random bytes in an account's id. */
export const ACCOUNT_ID_BYTES = 12;
/** Default for the names one address (an IPv6 /64) may register in REGISTRATION_WINDOW_MS. */
export const MAX_REGISTRATIONS_PER_HOUR = 10;
/** The window registrations from an address are counted in. */
export const REGISTRATION_WINDOW_MS = 60 * 60_000;
/** Default for how long an account nobody has logged into since it was registered is kept. */
export const ACCOUNT_EXPIRY_DAYS = 30;
export const DAY_MS = 24 * 60 * 60_000;
export { KNOWN_ADDRESS_MS, MAX_KNOWN_ADDRESSES } from './passwords';

/** What the registry reports for a log: never a password or a hash. */
export type AccountChange =
  | { readonly kind: 'registered' | 'password-changed' | 'unregistered' | 'key-added' | 'key-removed'; readonly name: string; readonly from: string }
  | { readonly kind: 'wrong-password'; readonly name: string; readonly from: string }
  | Slowed
  | { readonly kind: 'released'; readonly name: string; readonly by: string; readonly from: string }
  | { readonly kind: 'expired'; readonly name: string; readonly registeredAt: number }
  | { readonly kind: 'registrations-limited'; readonly name: string; readonly from: string }
  | { readonly kind: 'save-failed' | 'read-failed' | 'check-failed'; readonly error: Error };

export interface RegistryOptions {
  readonly cost: number;
  /** How wrong checks are spaced out. */
  readonly limits: GuessLimits;
  /** scrypt hashes computed at once. */
  readonly checksAtOnce: number;
  /** How long past the longest wait a login's check may take before it is answered 'unchecked'. */
  readonly answerGraceMs: number;
  /** The clock of the waits and of the known addresses' dates. */
  readonly scheduler: SchedulerLike;
  /** Names one address group may register per REGISTRATION_WINDOW_MS. */
  readonly maxRegistrationsPerHour: number;
  /** How long an account nobody has logged into since it was registered is kept. */
  readonly accountExpiryMs: number;
  /** True for a name that never expires: an operator's, which a stranger must not get by waiting. */
  readonly neverExpires: (name: string) => boolean;
  /** The time, in ms since the epoch. */
  readonly now: () => number;
  readonly report: (change: AccountChange) => void;
}

export const DEFAULT_OPTIONS: RegistryOptions = {
  cost: SCRYPT_COST,
  limits: DEFAULT_GUESS_LIMITS,
  checksAtOnce: PASSWORD_CHECKS_AT_ONCE,
  answerGraceMs: CHECK_ANSWER_GRACE_MS,
  scheduler: asyncScheduler,
  maxRegistrationsPerHour: MAX_REGISTRATIONS_PER_HOUR,
  accountExpiryMs: ACCOUNT_EXPIRY_DAYS * DAY_MS,
  neverExpires: () => false,
  now: Date.now,
  report: () => {},
};
