import { asyncScheduler, endWith, filter, map, merge, type Observable, type SchedulerLike, takeWhile, timer } from 'rxjs';
import { type Input, OVERLONG_LINE } from './lines';
import { hasControl } from './sanitize';

/** The longest username, in characters. */
export const MAX_NICK_LENGTH = 32;

/** Default time a connection has to give a valid username. */
export const LOGIN_TIMEOUT_MS = 60_000;

/** One step of a login: a refused name (the prompt follows), the accepted one, or the deadline. */
export type LoginStep =
  | { readonly kind: 'refused'; readonly reason: string }
  | { readonly kind: 'accepted'; readonly nick: string; readonly key: string }
  | { readonly kind: 'timed-out' };

const NICK_TOO_LONG = `username too long (max ${MAX_NICK_LENGTH} characters)`;

/** The form two names share when they are the same user: `Bob` and `bob` are one. */
export const nickKey = (nick: string): string => nick.normalize('NFC').toLowerCase();

/** Why a username breaks the rules, or undefined when it keeps them; uniqueness aside. */
export function nickProblem(nick: string): string | undefined {
  if (nick.length === 0) return 'username must not be empty';
  if (hasControl(nick)) return 'username must not contain control characters';
  if (/\s/u.test(nick)) return 'username must not contain spaces';
  if ([...nick].length > MAX_NICK_LENGTH) return NICK_TOO_LONG;
  return undefined;
}

function attempt(input: Input, isTaken: (key: string) => boolean): LoginStep {
  if (input === OVERLONG_LINE) return { kind: 'refused', reason: NICK_TOO_LONG };
  const nick = input.trim();
  const problem = nickProblem(nick);
  if (problem !== undefined) return { kind: 'refused', reason: problem };
  const key = nickKey(nick);
  return isTaken(key) ? { kind: 'refused', reason: `username ${nick} is taken` } : { kind: 'accepted', nick, key };
}

const HUNG_UP = { kind: 'hung-up' } as const;

/**
 * The login of one connection: each line is a username attempt, checked against the rules and
 * `isTaken` at the moment it arrives. Emits a step per attempt; completes after the accepted
 * name, after the deadline, or when the input ends first. Errors when the input errors.
 */
export function login(
  input$: Observable<Input>,
  isTaken: (key: string) => boolean,
  timeoutMs = LOGIN_TIMEOUT_MS,
  scheduler: SchedulerLike = asyncScheduler,
): Observable<LoginStep> {
  const attempts$ = input$.pipe(
    map((input): LoginStep | typeof HUNG_UP => attempt(input, isTaken)),
    endWith(HUNG_UP),
  );
  const deadline$ = timer(timeoutMs, scheduler).pipe(map((): LoginStep => ({ kind: 'timed-out' })));
  return merge(attempts$, deadline$).pipe(
    takeWhile((step) => step.kind === 'refused', true),
    filter((step): step is LoginStep => step !== HUNG_UP),
  );
}
