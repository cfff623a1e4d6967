import { type ChatEvent, nodeOf, type RosterUser } from './events';
import { MAX_NAME_LENGTH, nameKey } from './names';
import type { ChatState } from './state';

type NodeEvent = Extract<ChatEvent, { readonly type: 'node-lost' | 'roster' }>;

/**
 * The user events a node-level event stands for, decided against the state before it. Every
 * node holds the same state at the same point of the bus, so every node makes the same events:
 * a dead node's users leave; a roster's users the chat lost leave, those it does not hold come
 * back, under a free variant of their name when someone took it meanwhile.
 */
export function expand(event: NodeEvent, state: ChatState): ChatEvent[] {
  const held = state.members().filter((user) => nodeOf(user.id) === event.node);
  const listed = new Set(event.type === 'roster' ? event.users.map((user) => user.id) : []);
  const departures: ChatEvent[] = held
    .filter((user) => !listed.has(user.id))
    .map((user) => ({ type: 'left', user: user.id, nick: user.nick, room: user.room, at: event.at }));
  if (event.type === 'node-lost') return departures;
  const claimed = new Set<string>();
  const returns = event.users
    .filter((user) => nodeOf(user.id) === event.node && state.user(user.id) === undefined)
    .map((user): ChatEvent => returned(user, freeName(state, user.nick, claimed), event.at));
  return [...departures, ...returns];
}

const returned = (user: RosterUser, nick: string, at: number): ChatEvent =>
  ({ type: 'returned', user: user.id, nick, was: user.nick, room: user.room, at });

/** `nick`, or the first of `nick_2`, `nick_3`... that nobody holds or claimed in this roster. */
function freeName(state: ChatState, nick: string, claimed: Set<string>): string {
  const isFree = (name: string) => state.userNamed(name) === undefined && !claimed.has(nameKey(name));
  let name = nick;
  for (let n = 2; !isFree(name); n++) {
    const suffix = `_${n}`;
    name = [...nick].slice(0, MAX_NAME_LENGTH - suffix.length).join('') + suffix;
  }
  claimed.add(nameKey(name));
  return name;
}
