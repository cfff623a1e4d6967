import { type ChatEvent, nodeOf, type RosterUser, type UserId } from './events';
import { MAX_NAME_LENGTH, nameKey } from './names';
import type { ChatState, User } from './state';

type NodeEvent = Extract<ChatEvent, { readonly type: 'node-lost' | 'roster' }>;

/**
 * The user events a node-level event stands for, decided against the state before it. Every
 * node holds the same state at the same point of the bus, so every node makes the same events:
 * a dead or stopping node's users leave, and the rooms they empty keep their history; a roster's
 * users the chat lost leave, those it does not hold come back. A name two users took apart
 * during an outage goes to the one who gave its password, or else to the earlier login; the other
 * gets a free variant of it, and is told.
 * A user the chat holds under another name or in another room than their roster's takes those.
 */
export function expand(event: NodeEvent, state: ChatState): ChatEvent[] {
  const held = state.members().filter((user) => nodeOf(user.id) === event.node);
  if (event.type === 'node-lost') return held.map((user) => departure(user, event.at, true));
  const listed = new Set(event.users.map((user) => user.id));
  const leaving = held.filter((user) => !listed.has(user.id));
  const names = new Names(state, new Set(leaving.map((user) => user.id)));
  const own = event.users.filter((user) => nodeOf(user.id) === event.node);
  const changes = own.flatMap((user) => {
    const holder = state.user(user.id);
    return holder === undefined ? [] : catchUp(holder, user, names, state, event.at);
  });
  const returns = own.filter((user) => state.user(user.id) === undefined).flatMap((user) => comeBack(user, names, state, event.at));
  return [...leaving.map((user) => departure(user, event.at, false)), ...[...changes, ...returns].flatMap((each) => [each, ...putOut(each, state)])];
}

/**
 * A ban holds however a name is taken: a user who comes back under a name banned meanwhile (on
 * another node, while theirs was apart), or takes one, is put out as the ban puts out its holder.
 * No operator's connection made this event: its `user` is '' (nobody), its `nick` the ban's operator.
 */
function putOut(event: ChatEvent, state: ChatState): ChatEvent[] {
  if (event.type !== 'returned' && event.type !== 'renamed') return [];
  const ban = state.moderation.banOfName(event.nick, event.at);
  return ban === undefined ? [] : [{ type: 'banned', user: '', nick: ban.by, ban, at: event.at }];
}

/**
 * A user the chat holds, as their node says they are now: the name and room they took while the
 * nodes were apart, the name as free as the roster finds it, unless they gave its password and
 * its holder did not.
 */
function catchUp(held: User, user: RosterUser, names: Names, state: ChatState, at: number): ChatEvent[] {
  const changes: ChatEvent[] = [];
  let nick = held.nick;
  if (user.nick !== held.nick) {
    names.release(held.id);
    const holder = names.holder(user.nick);
    // A name taken by /nick while apart goes to whoever holds it, but for its owner's password.
    if (holder !== undefined && proved(user) && !state.isIdentified(holder.id)) changes.push(displace(holder, user, names, state, at));
    nick = names.claim(user.nick);
    const renamed = { type: 'renamed', user: held.id, from: held.nick, nick, room: held.room, at } as const;
    changes.push(nick === user.nick ? renamed : { ...renamed, displaced: true }); // someone took it meanwhile
  }
  if (user.room !== held.room) changes.push({ type: 'moved', user: held.id, nick, from: held.room, room: user.room, at });
  return changes;
}

function departure(user: User, at: number, nodeGone: boolean): ChatEvent {
  const left = { type: 'left', user: user.id, nick: user.nick, room: user.room, at } as const;
  return nodeGone ? { ...left, nodeGone } : left;
}

/** A roster's user back: under their name when it is free or they outrank its holder, who is then renamed. */
function comeBack(user: RosterUser, names: Names, state: ChatState, at: number): ChatEvent[] {
  const holder = names.holder(user.nick);
  if (holder === undefined) return [returned(user, names.claim(user.nick), at)];
  if (!outranks(user, holder, state)) {
    const back = returned(user, names.claim(user.nick), at);
    return [state.isIdentified(holder.id) && !proved(user) ? { ...back, owner: true } : back];
  }
  const displaced = displace(holder, user, names, state, at);
  names.claim(user.nick);
  return [displaced, returned(user, user.nick, at)];
}

/** `holder` gives up the name `user` outranks them for, for a free variant of it, and is told why. */
function displace(holder: User, user: RosterUser, names: Names, state: ChatState, at: number): ChatEvent {
  const nick = names.claim(holder.nick);
  names.release(holder.id);
  const renamed = { type: 'renamed', user: holder.id, from: holder.nick, nick, room: holder.room, at, displaced: true } as const;
  return proved(user) && !state.isIdentified(holder.id) ? { ...renamed, owner: true } : renamed;
}

/**
 * Who keeps a name two users took while the nodes were apart, the same on every node: the one who
 * gave its password (a registered name is its owner's); between two who both did, the later login,
 * as a login with the password takes the name over from an open connection; between two who
 * did not, the earlier login.
 */
function outranks(user: RosterUser, holder: User, state: ChatState): boolean {
  const holderProved = state.isIdentified(holder.id);
  if (proved(user) !== holderProved) return proved(user);
  return holderProved ? isEarlier(holder, user) : isEarlier(user, holder);
}

/** True when the roster's user gave the password of the name they hold. */
const proved = (user: RosterUser): boolean => user.identified !== undefined && user.identified === nameKey(user.nick);

/** Login order, the same on every node: by connection time, then by id. */
const isEarlier = (user: RosterUser | User, other: RosterUser | User): boolean =>
  user.connectedAt < other.connectedAt || (user.connectedAt === other.connectedAt && user.id < other.id);

const returned = (user: RosterUser, nick: string, at: number): Extract<ChatEvent, { type: 'returned' }> => {
  const back = { type: 'returned', user: user.id, nick, was: user.nick, room: user.room, connectedAt: user.connectedAt, from: user.from ?? '', at } as const;
  if (user.identified === undefined) return back;
  return user.account === undefined ? { ...back, identified: user.identified } : { ...back, identified: user.identified, account: user.account };
};

/** The names a roster hands out, over the state before it: those its departures free are free. */
class Names {
  private readonly claimed = new Set<string>(); // name keys this roster handed out

  constructor(
    private readonly state: ChatState,
    private readonly freed: Set<UserId>, // users whose name this roster takes away
  ) {}

  /** Who holds `name` and keeps it unless displaced: a user of the state this roster neither removed nor renamed. */
  holder(name: string): User | undefined {
    if (this.claimed.has(nameKey(name))) return undefined;
    const holder = this.state.userNamed(name);
    return holder === undefined || this.freed.has(holder.id) ? undefined : holder;
  }

  /** `nick`, or the first of `nick_2`, `nick_3`... that nobody holds, now handed out. */
  claim(nick: string): string {
    const name = firstFree(nick, (each) => !this.claimed.has(nameKey(each)) && this.holder(each) === undefined);
    this.claimed.add(nameKey(name));
    return name;
  }

  /** `user` gives up the name they hold, for one they were handed. */
  release(user: UserId): void {
    this.freed.add(user);
  }
}

/** `nick` if `isFree` says so, else the first of `nick_2`, `nick_3`... that is, within MAX_NAME_LENGTH. */
function firstFree(nick: string, isFree: (name: string) => boolean): string {
  let name = nick;
  for (let n = 2; !isFree(name); n++) {
    const suffix = `_${n}`;
    name = [...nick].slice(0, MAX_NAME_LENGTH - suffix.length).join('') + suffix;
  }
  return name;
}

/** The first of `nick_2`, `nick_3`... that nobody holds, for a holder who must give up `nick`. */
export const freeVariant = (state: ChatState, nick: string): string =>
  firstFree(nick, (name) => name !== nick && state.userNamed(name) === undefined);
