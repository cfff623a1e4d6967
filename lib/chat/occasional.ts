import type { Subscription } from 'rxjs';
import { NO_TRIES, type Tries } from './intent';

/**
 * What a session holds only at times: its login (deadline, address, what it tried), its login on
 * its way back from the bus, a registered name's password prompt, an account change or password
 * check under way. One object, made when needed and let go once logged in with none of it left,
 * since most sessions idle logged in without any of it.
 */
export class Occasional {
  deadline: Subscription | undefined;
  // The name of a login let in, until it is back from the bus.
  joining: string | undefined;
  awaitingPassword: string | undefined;
  tries: Tries = NO_TRIES;
  // A password check or account change asked, not yet answered.
  pending = false;
  // The login deadline passed while a password given before it was checked: the answer decides.
  timedOut = false;
  // The input ended: the connection closes once every line asked is answered.
  ended = false;
  // The last text sent was a prompt, and no line has come since: the peer's cursor is after it.
  promptWaiting = false;
  // The door was told to hide what the user types (a password), and not yet to show it again.
  concealed = false;

  /** `from`: the peer's address, which wrong passwords slow down. */
  constructor(readonly from: string) {}

  /** Holds nothing a logged-in session needs. */
  get spent(): boolean {
    return this.deadline === undefined && this.joining === undefined && this.awaitingPassword === undefined && !this.tries.warned && !this.pending && !this.ended;
  }
}

