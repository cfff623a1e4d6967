import type { UserId } from './chat/events';
import type { ModerationAction } from './chat/moderation';
import type { EntranceEvent } from './edge/entrance';
import type { AccountChange } from './store/registry';

/** What the server reports as it runs, for a log: the entrance's connections, and the chat's. */
export type ServerEvent =
  | EntranceEvent
  | { readonly kind: 'ssh-failed'; readonly from: string; readonly reason: string }
  | { readonly kind: 'ssh-refused'; readonly from: string; readonly request: string }
  | { readonly kind: 'ssh-host-key'; readonly fingerprint: string; readonly file: string | undefined; readonly created: boolean }
  | { readonly kind: 'login'; readonly id: UserId; readonly nick: string }
  | { readonly kind: 'rename'; readonly id: UserId; readonly from: string; readonly nick: string }
  | { readonly kind: 'logout'; readonly id: UserId; readonly nick: string }
  | { readonly kind: 'said' | 'acted'; readonly id: UserId; readonly room: string; readonly text: string }
  | { readonly kind: 'node'; readonly node: string }
  | { readonly kind: 'moderation'; readonly action: ModerationAction }
  | { readonly kind: 'account'; readonly change: AccountChange }
  | { readonly kind: 'bus'; readonly message: string }
  | { readonly kind: 'error'; readonly error: Error };
