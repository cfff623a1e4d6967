import { type Observable, of } from 'rxjs';

/** The fewest characters a password may have. */
export const MIN_PASSWORD_LENGTH = 8;
/** The most characters a password may have. */
export const MAX_PASSWORD_LENGTH = 128;
/** Wrong passwords a connection may give at login before it is closed. */
export const MAX_PASSWORD_TRIES = 3;

/** A change to a registered name, asked for by the user logged in with it. */
export type AccountRequest =
  | { readonly kind: 'register'; readonly name: string; readonly password: string }
  | { readonly kind: 'password'; readonly name: string; readonly password: string; readonly newPassword: string }
  | { readonly kind: 'unregister'; readonly name: string; readonly password: string };

/** How a request ended: done, refused for a reason, its password not checked now (too many
 * checks at once), or failed (not saved, or the check failed). */
export type AccountOutcome = 'done' | 'wrong-password' | 'not-registered' | 'taken' | 'unchecked' | 'failed';

/**
 * How a password check ended: right, wrong, not made (the store or the hash failed, told to the
 * user as such, never as a wrong password), not made now (too many checks at once from the
 * address or of the name: they may try again), or right for an account that lost the name to an
 * older lookalike when name keys changed (its owner is told).
 */
export type Verdict = 'right' | 'wrong' | 'failed' | 'unchecked' | 'displaced';

/**
 * Registered names as the core sees them: whether a name is registered, now; and checks and
 * changes, whose answers come later (hashing and saving take time), each as an Observable
 * that emits once, then completes, and never errors. `from` is the peer's address: wrong
 * passwords slow down checks from it and of the name.
 */
export interface Accounts {
  registered(name: string): boolean;
  /** The id of the account registered as `name` now (see AccountRecord.id), or undefined when none is. */
  accountOf(name: string): string | undefined;
  verify(name: string, password: string, from: string): Observable<Verdict>;
  change(request: AccountRequest, from: string): Observable<AccountOutcome>;
}

/** No name is registered, and none can be. */
export const NO_ACCOUNTS: Accounts = {
  registered: () => false,
  accountOf: () => undefined,
  verify: () => of('wrong'),
  change: () => of('failed'),
};

/** Why `password` cannot be one, or undefined when it can. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (/\s/u.test(password) || length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    return `a password is one word of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`;
  }
  return undefined;
}
