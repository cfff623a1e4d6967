import type { UserId } from './events';

/**
 * What leaves the chat, for the transport to carry out in order: `send` to one connection,
 * `broadcast` to everyone in a room but those it is hidden from (they ignore its sender),
 * `enter` a connection into a room's broadcasts, `exit` it from its room's, `conceal` what its
 * user types from now on (a password: `hidden`) or no longer, `close` a connection once what was
 * sent to it is written. A `conceal` hidden comes before the prompt it is for, and one not hidden
 * once the secret line is read, or before a close that ends the wait for it.
 */
export type Outgoing =
  | { readonly kind: 'send'; readonly to: UserId; readonly text: string }
  | { readonly kind: 'broadcast'; readonly room: string; readonly text: string; readonly hiddenFrom: readonly UserId[] }
  | { readonly kind: 'enter'; readonly to: UserId; readonly room: string }
  | { readonly kind: 'exit'; readonly to: UserId }
  | { readonly kind: 'conceal'; readonly to: UserId; readonly hidden: boolean }
  | { readonly kind: 'close'; readonly to: UserId; readonly reason: CloseReason };

/**
 * Why the chat closes a connection: the peer's input ended (and whatever it was owed is out),
 * the user's `/quit`, no valid username in time, wrong passwords, too many refused usernames or
 * bytes before login, an operator's `/kick`, a ban (by `/ban`, or of the name given at login), or
 * its user logging in again on another connection (`replaced`).
 */
export type CloseReason = 'eof' | 'quit' | 'login_timeout' | 'wrong_password' | 'login_limit' | 'kick' | 'banned' | 'replaced';
