import { MAX_LINE_BYTES } from './input';
import type { ConnectionRules } from './intent';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './pace';
import * as text from './texts';

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

/** Default for the usernames a connection may have refused; at the last, it is closed. */
export const MAX_NAME_ATTEMPTS = 10;

/** Default for the bytes a connection may send before it logs in; past them, it is closed. */
export const MAX_LOGIN_BYTES = 64 * 1024;

/** How each connection is served, from its greeting on; its ConnectionRules are decide's. */
export interface SessionOptions extends ConnectionRules {
  readonly banner: string;
  readonly maxLineBytes: number;
  readonly loginTimeoutMs: number;
  /** The byte budget of the connection's input (lines.ts's BUDGET_SPENT); it binds before login alone. */
  readonly maxLoginBytes: number;
  readonly rateLimits: RateLimits;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = {
  banner: text.DEFAULT_BANNER,
  maxLineBytes: MAX_LINE_BYTES,
  loginTimeoutMs: LOGIN_TIMEOUT_MS,
  maxNameAttempts: MAX_NAME_ATTEMPTS,
  maxLoginBytes: MAX_LOGIN_BYTES,
  rateLimits: DEFAULT_RATE_LIMITS,
  requireTlsForPasswords: false,
};
