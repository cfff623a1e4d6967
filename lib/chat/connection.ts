import type { Observable } from 'rxjs';
import type { UserId } from './events';
import type { Input } from './input';

/** One accepted socket, as the chat sees it: the id its user will have, and its input. */
export interface Connection {
  readonly id: UserId;
  readonly input$: Observable<Input>;
  /** Encrypted (TLS): passwords may cross it without a warning. Plain when not given. */
  readonly secure?: boolean;
  /** The peer's address, which wrong passwords slow down; '' when not given. */
  readonly from?: string;
  /** Fingerprints of the public keys its door verified (SSH), in the order offered: a key tied to a registered name opens it. None when not given. */
  readonly keys?: readonly string[];
}
