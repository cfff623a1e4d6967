import { addressGroup } from './address-group';
import { termEnd } from './durations';
import type { Ban, ChatEvent, ModerationEvent } from './events';
import { nameKey } from './names';

/** The most bans kept at once; past it `/ban` is refused until some expire or are lifted. */
export const MAX_BANS = 10_000;

/** What moderation keeps across restarts: the names made operators by `/op` and, by name key,
 * the account each grant was given to, the bans, the message of the day ('' for none). */
export interface ModerationData {
  readonly ops: readonly string[];
  /** Name key -> the id of the account `/op` was given to; a grant saved before there were ids has none. */
  readonly opAccounts: Readonly<Record<string, string>>;
  readonly bans: readonly Ban[];
  readonly motd: string;
}

/** Moderation as the rest of the chat reads it; `now` is in ms, against which bans and mutes expire. */
export interface ModerationView {
  /** True when `name` is an operator's, by configuration or `/op`, whatever its account. */
  isOpName(name: string): boolean;
  /**
   * True when logging in with the password of `name`, registered as `account`, makes an operator:
   * by configuration (a name, which the machine's operator gave), or by an `/op` given to that
   * account (or, saved before grants named accounts, to the name).
   */
  isOpAccount(name: string, account: string | undefined): boolean;
  /** True when `name` is an operator by configuration, which `/deop` cannot change. */
  isFixedOp(name: string): boolean;
  /** An operator's name made by `/op`, as it was opped, for `name` or a lookalike of it. */
  oppedName(name: string): string | undefined;
  /** The ban of `name` (or a lookalike) in force at `now`, if any. */
  banOfName(name: string, now: number): Ban | undefined;
  /** The ban in force at `now` of `address`'s group (an IPv6 address's /64), if any. */
  banOfAddress(address: string, now: number): Ban | undefined;
  /** The bans in force at `now`, oldest first. */
  bans(now: number): Ban[];
  /** When `name`'s mute ends, or undefined when it is not muted at `now`. */
  mutedUntil(name: string, now: number): number | undefined;
  readonly motd: string;
  /** What is kept across restarts, as of `now`: expired bans are left out. */
  saved(now: number): ModerationData;
}

/** An `/op`: the name as it was opped, and the account it was given to (undefined: saved before grants named one). */
interface OpGrant {
  readonly name: string;
  readonly account: string | undefined;
}

const inForce = (ban: Ban, now: number): boolean => ban.until === null || ban.until > now;

/**
 * Operators' names, bans, mutes and the message of the day, for ChatState, which applies the
 * events that change them. Names are held by their key, so lookalikes share one.
 */
export class Moderation implements ModerationView {
  private readonly fixedOps = new Set<string>();
  private readonly ops = new Map<string, OpGrant>(); // key -> the grant
  private readonly banned = new Map<string, Ban>(); // name key -> its ban, the oldest first
  private readonly groups = new Map<string, string>(); // name key -> its ban's address group, for the bans with an address
  private readonly mutes = new Map<string, number>(); // key -> when it ends
  private message = '';

  apply(event: Exclude<ModerationEvent, { readonly type: 'identified' | 'kicked' }>): void {
    switch (event.type) {
      case 'opped': this.ops.set(nameKey(event.name), { name: event.name, account: event.account }); break;
      case 'deopped': this.ops.delete(nameKey(event.name)); break;
      case 'banned': this.ban(event.ban, event.at); break;
      case 'unbanned': this.unban(event.target); break;
      case 'muted': this.mute(nameKey(event.name), event.until, event.at); break;
      case 'unmuted': this.mutes.delete(nameKey(event.name)); break;
      case 'motd': this.message = event.text; break;
      case 'moderation-loaded': this.restore(event); break;
    }
  }

  isOpName(name: string): boolean {
    const key = nameKey(name);
    return this.fixedOps.has(key) || this.ops.has(key);
  }

  isOpAccount(name: string, account: string | undefined): boolean {
    const key = nameKey(name);
    if (this.fixedOps.has(key)) return true;
    const grant = this.ops.get(key);
    return grant !== undefined && (grant.account === undefined || grant.account === account);
  }

  isFixedOp(name: string): boolean {
    return this.fixedOps.has(nameKey(name));
  }

  oppedName(name: string): string | undefined {
    return this.ops.get(nameKey(name))?.name;
  }

  banOfName(name: string, now: number): Ban | undefined {
    const ban = this.banned.get(nameKey(name));
    return ban !== undefined && inForce(ban, now) ? ban : undefined;
  }

  banOfAddress(address: string, now: number): Ban | undefined {
    if (address === '') return undefined;
    const group = addressGroup(address);
    for (const [key, ban] of this.banned) if (this.groups.get(key) === group && inForce(ban, now)) return ban;
    return undefined;
  }

  bans(now: number): Ban[] {
    return [...this.banned.values()].filter((ban) => inForce(ban, now));
  }

  mutedUntil(name: string, now: number): number | undefined {
    const until = this.mutes.get(nameKey(name));
    return until !== undefined && until > now ? until : undefined;
  }

  get motd(): string {
    return this.message;
  }

  saved(now: number): ModerationData {
    const opAccounts: Record<string, string> = Object.create(null); // keyed by what users typed
    for (const [key, { account }] of this.ops) if (account !== undefined) opAccounts[key] = account;
    return { ops: [...this.ops.values()].map(({ name }) => name), opAccounts, bans: this.bans(now), motd: this.message };
  }

  /** A new ban of a name replaces the one before it; expired ones go. */
  private ban(ban: Ban, now: number): void {
    for (const [key, kept] of this.banned) if (!inForce(kept, now)) this.forget(key);
    this.keep(ban);
  }

  /** `target` is a name (or lookalike) or an address, which lifts the bans of its whole group. */
  private unban(target: string): void {
    this.forget(nameKey(target));
    const group = addressGroup(target);
    for (const [key, banGroup] of this.groups) if (banGroup === group) this.forget(key);
  }

  private keep(ban: Ban): void {
    const key = nameKey(ban.name);
    this.forget(key); // to the end: the newest
    this.banned.set(key, ban);
    if (ban.address !== '') this.groups.set(key, addressGroup(ban.address));
  }

  private forget(key: string): void {
    this.banned.delete(key);
    this.groups.delete(key);
  }

  /** Expired mutes go as a new one comes, so they stay as few as those in force. */
  private mute(key: string, until: number, now: number): void {
    for (const [kept, ends] of this.mutes) if (ends <= now) this.mutes.delete(kept);
    this.mutes.set(key, until);
  }

  private restore({ fixedOps, ops, opAccounts, bans, motd }: Extract<ModerationEvent, { readonly type: 'moderation-loaded' }>): void {
    this.fixedOps.clear();
    for (const name of fixedOps) this.fixedOps.add(nameKey(name));
    this.ops.clear();
    const accounts = new Map(Object.entries(opAccounts ?? {})); // own entries alone: a key may be any name
    for (const name of ops) this.ops.set(nameKey(name), { name, account: accounts.get(nameKey(name)) });
    this.banned.clear();
    this.groups.clear();
    for (const ban of bans) this.keep(ban);
    this.message = motd;
  }
}

/** An operator's action as a log reports it: what, by whom, on whom, and its details. */
export interface ModerationAction {
  readonly action: 'op' | 'deop' | 'kick' | 'ban' | 'unban' | 'mute' | 'unmute' | 'motd';
  readonly by: string;
  /** A name, or an address (`unban`); '' for `motd`. */
  readonly target: string;
  /** The reason, the term, the address or the text; '' when there is none. */
  readonly detail: string;
}

/** The action `event` records, or undefined when it is not an operator's. */
export function moderationAction(event: ChatEvent): ModerationAction | undefined {
  switch (event.type) {
    case 'opped': return { action: 'op', by: event.nick, target: event.name, detail: '' };
    case 'deopped': return { action: 'deop', by: event.nick, target: event.name, detail: '' };
    case 'kicked': return { action: 'kick', by: event.nick, target: event.targetNick, detail: event.reason };
    case 'banned': {
      const { name, address, reason } = event.ban;
      return { action: 'ban', by: event.nick, target: name, detail: [address, termEnd(event.ban.until), reason].filter((part) => part !== '').join(', ') };
    }
    case 'unbanned': return { action: 'unban', by: event.nick, target: event.target, detail: '' };
    case 'muted': return { action: 'mute', by: event.nick, target: event.name, detail: termEnd(event.until) };
    case 'unmuted': return { action: 'unmute', by: event.nick, target: event.name, detail: '' };
    case 'motd': return { action: 'motd', by: event.nick, target: '', detail: event.text };
    default: return undefined;
  }
}

/** The events whose outcome is kept across restarts (mutes and kicks are not). */
export type SavedModerationEvent = Extract<ModerationEvent, { readonly type: 'opped' | 'deopped' | 'banned' | 'unbanned' | 'motd' }>;

const SAVED_EVENTS: ReadonlySet<ChatEvent['type']> = new Set(['opped', 'deopped', 'banned', 'unbanned', 'motd']);

/** True when `event`'s outcome is kept across restarts. */
export const isSavedModeration = (event: ChatEvent): event is SavedModerationEvent => SAVED_EVENTS.has(event.type);
