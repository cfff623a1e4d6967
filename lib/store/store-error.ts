export type StoreErrorCode = 'CHAT_STORE_CORRUPT' | 'CHAT_STORE_UNWRITABLE' | 'CHAT_STORE_UNREACHABLE' | 'CHAT_STORE_TOO_NEW' | 'CHAT_STORE_LOCKED';

/** The data cannot be read as chatd's, cannot be written, or its place cannot be reached; the message names the place. */
export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
  ) {
    super(message);
  }
}
