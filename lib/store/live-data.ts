import { Moderation, type ModerationData, type SavedModerationEvent } from '../chat/moderation';
import { type AccountRecord, accountTable, EMPTY_DATA, type StoreChange, type StoreData } from './store';

/**
 * What is kept, live in memory: each change made in place (a copy of 100,000 accounts per
 * registration would stall the chat). The store that holds it writes each change first.
 */
export class LiveData {
  readonly accounts: Map<string, AccountRecord>;
  /** The accounts that lost their name to an older lookalike (rekey.ts). */
  displaced: readonly AccountRecord[];
  private moderationPart: ModerationData;

  constructor(data: StoreData = EMPTY_DATA) {
    this.accounts = new Map(Object.entries(data.accounts));
    this.displaced = data.displaced;
    this.moderationPart = { ops: data.ops, opAccounts: data.opAccounts, bans: data.bans, motd: data.motd };
  }

  get moderation(): ModerationData {
    return this.moderationPart;
  }

  /** A snapshot: the accounts table is a copy. */
  data(): StoreData {
    return { accounts: accountTable(this.accounts), displaced: this.displaced, ...this.moderationPart };
  }

  /** False when an account change's `expected` is not the kept one's. */
  accepts(change: StoreChange): boolean {
    return change.type !== 'account' || (this.accounts.get(change.key)?.hash ?? null) === change.expected;
  }

  /** Moderation's part as it is after `change`, made with the chat's own reducer, so the data keeps what the state keeps. */
  moderationAfter(change: SavedModerationEvent): ModerationData {
    const moderation = new Moderation();
    moderation.apply({ type: 'moderation-loaded', fixedOps: [], ...this.moderationPart, at: change.at });
    moderation.apply(change);
    return moderation.saved(change.at);
  }

  setAccount(key: string, record: AccountRecord | null): void {
    if (record === null) this.accounts.delete(key);
    else this.accounts.set(key, record);
  }

  setModeration(moderation: ModerationData): void {
    this.moderationPart = moderation;
  }

  /** Notes a login on the account kept under `key`, if there is one. */
  loggedIn(key: string, at: number): void {
    const record = this.accounts.get(key);
    if (record !== undefined) this.accounts.set(key, { ...record, lastLoginAt: at });
  }
}
