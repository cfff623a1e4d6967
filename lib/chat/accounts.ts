import { type Observable, of } from 'rxjs';
import { nameKey } from './names';

/** The fewest characters a password may have. */
export const MIN_PASSWORD_LENGTH = 8;
/** The most characters a password may have. */
export const MAX_PASSWORD_LENGTH = 128;
/** Wrong passwords a connection may give at login before it is closed. */
export const MAX_PASSWORD_TRIES = 3;
/** Passwords a connection may give at login that were not checked (too many checks at once)
 * before it is closed: more than MAX_PASSWORD_TRIES, as they are no guesses, so that a guess
 * stream at the name cannot close its owner out, yet bounded so a connection cannot ask without end. */
export const MAX_UNCHECKED_TRIES = 20;

/** A change to a registered name, asked for by the user logged in with it, or by an operator. */
export type AccountRequest =
  /** `key`: the fingerprint of the connection's key (SSH), tied to the name with the password. */
  | { readonly kind: 'register'; readonly name: string; readonly password: string; readonly key?: string }
  /** The owner, logged in with the name's password or key, ties a key to it, or unties one. */
  | { readonly kind: 'add-key' | 'remove-key'; readonly name: string; readonly key: string }
  | { readonly kind: 'password'; readonly name: string; readonly password: string; readonly newPassword: string }
  /** `/unregister WORD`; from an operator, WORD may be a name to release instead (see `unregisterRequest`). */
  | { readonly kind: 'unregister'; readonly name: string; readonly password: string; readonly byOperator?: true }
  /** An operator releases someone else's registered name, without its password. */
  | { readonly kind: 'release'; readonly name: string; readonly by: string };

/** How a request ended: done, refused for a reason, its password not checked now (too many
 * checks at once), failed (not saved, or the check failed), or `limited`: the address has
 * registered as many names as it may for now. */
export type AccountOutcome = 'done' | 'wrong-password' | 'not-registered' | 'taken' | 'unchecked' | 'limited' | 'failed';

/** Public keys one account may have tied to it. */
export const MAX_KEYS = 10;
/** The longest fingerprint kept: `SHA256:` and the base64 of a SHA-256 (43 characters), with room to spare. */
export const MAX_FINGERPRINT_LENGTH = 64;

/** True for a key fingerprint as OpenSSH shows it: `SHA256:` and unpadded base64. */
export const isFingerprint = (value: string): boolean => value.length <= MAX_FINGERPRINT_LENGTH && /^SHA256:[A-Za-z0-9+/]{1,56}={0,2}$/u.test(value);

/**
 * How a password check ended: right, wrong, not made (the store or the hash failed, told to the
 * user as such, never as a wrong password), not made now (too many checks at once from the
 * address or of the name: they may try again), or right for an account that lost the name to an
 * older lookalike when name keys changed (its owner is told).
 */
export type Verdict = 'right' | 'wrong' | 'failed' | 'unchecked' | 'displaced';

/**
 * The accounts driver: whether a name is registered now and its account (the loop asks as it
 * makes an intent); and checks and changes, whose answers come later (hashing and saving take
 * time), each as an Observable that emits once, then completes, and never errors. `from` is the
 * peer's address: wrong passwords slow down checks from it and of the name.
 */
export interface Accounts {
  registered(name: string): boolean;
  /** The id of the account registered as `name` now (see AccountRecord.id), or undefined when none is. */
  accountOf(name: string): string | undefined;
  /** The fingerprints tied to the account registered as `name` now (none when it is not registered). */
  keysOf?(name: string): readonly string[];
  verify(name: string, password: string, from: string): Observable<Verdict>;
  change(request: AccountRequest, from: string): Observable<AccountOutcome>;
}

/** No name is registered, and none can be. */
export const NO_ACCOUNTS: Accounts = {
  registered: () => false,
  accountOf: () => undefined,
  keysOf: () => [],
  verify: () => of('wrong'),
  change: () => of('failed'),
};

/**
 * What `/unregister WORD` asks. From an operator, a WORD that is a registered name other than
 * their own releases that name; any other WORD, and any from a non-operator, is the user's own
 * password, which releases their own name. (An operator whose password is someone's registered
 * name releases their own with `chatd accounts remove`.)
 */
export function unregisterRequest(request: AccountRequest, registered: (name: string) => boolean): AccountRequest {
  if (request.kind !== 'unregister' || request.byOperator !== true) return request;
  const { name, password } = request;
  if (nameKey(password) !== nameKey(name) && registered(password)) return { kind: 'release', name: password, by: name };
  return { kind: 'unregister', name, password };
}

/** Why `password` cannot be one, or undefined when it can. */
export function passwordProblem(password: string): string | undefined {
  const length = [...password].length;
  if (/\s/u.test(password) || length < MIN_PASSWORD_LENGTH || length > MAX_PASSWORD_LENGTH) {
    return `a password is one word of ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`;
  }
  return undefined;
}
