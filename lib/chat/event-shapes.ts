/**
 * The shape of what comes from a bus, checked field by field before a node takes it as an event
 * or a state: anyone who can write to the bus can put any value on it. The bounds of each field
 * are wire.ts's.
 */

import type { ChatEvent, StateData } from './events';
import { isRecord } from './is-record';

type FieldType = 'string' | 'number';
const S = 'string';
const N = 'number';

/** The fields of each event type that travels on a bus, and their types. A Map: the type is
 * read from the bus, and `constructor` must not find Object's own. */
const WIRE_FIELDS = new Map<string, Record<string, FieldType>>(Object.entries({
  joined: { user: S, nick: S, room: S, at: N },
  left: { user: S, nick: S, room: S, at: N },
  said: { user: S, nick: S, room: S, text: S, at: N },
  acted: { user: S, nick: S, room: S, text: S, at: N },
  renamed: { user: S, from: S, nick: S, room: S, at: N },
  resumed: { user: S, replaced: S, nick: S, at: N },
  moved: { user: S, nick: S, from: S, room: S, at: N },
  whispered: { user: S, nick: S, to: S, toNick: S, text: S, at: N },
  away: { user: S, reason: S, at: N },
  back: { user: S, at: N },
  ignored: { user: S, target: S, targetNick: S, at: N },
  unignored: { user: S, target: S, targetNick: S, at: N },
  topic: { user: S, nick: S, room: S, topic: S, at: N },
  'node-lost': { node: S, at: N },
  roster: { node: S, at: N },
  identified: { user: S, nick: S, at: N },
  opped: { user: S, nick: S, name: S, at: N },
  deopped: { user: S, nick: S, name: S, at: N },
  kicked: { user: S, nick: S, target: S, targetNick: S, room: S, reason: S, at: N },
  banned: { user: S, nick: S, at: N },
  unbanned: { user: S, nick: S, target: S, at: N },
  muted: { user: S, nick: S, name: S, until: N, at: N },
  unmuted: { user: S, nick: S, name: S, at: N },
  motd: { user: S, nick: S, text: S, at: N },
}));

const BAN_FIELDS: Record<string, FieldType> = { name: S, address: S, by: S, reason: S };

const ROSTER_USER_FIELDS: Record<string, FieldType> = { id: S, nick: S, room: S, connectedAt: N };
// Fields that may be absent, and are of their type when present: `from`, the peer's address, of a
// joined and of a roster's user. A roster's is optional on the wire because a node of the version
// before sends none, and a roster refused for it would lose a whole node's users on every newer
// node (those it lost would never leave, the others never come back); such a user returns with
// no address known, as before. One of the wrong type is no older node's: the entry is skipped,
// as for any field of the wrong type. `identified`, a roster's user's password login, is absent
// when they gave none.
// `account`, the account whose password was given, of an identified, an opped or a roster's user,
// is absent from an older node's. `key`, an identified user's login key (SSH), is absent when a password was given.
const OPTIONAL_FIELDS: Record<string, FieldType> = { from: S, identified: S, account: S, key: S };
const USER_DATA_FIELDS: Record<string, FieldType> = { id: S, nick: S, room: S, connectedAt: N, activeAt: N, from: S };

function hasFields(value: unknown, fields: Record<string, FieldType>): value is Record<string, unknown> {
  return isRecord(value) && Object.entries(fields).every(([field, type]) => typeof value[field] === type);
}

/** True when each optional field `value` has is of its type. */
const optionalsFit = (value: Record<string, unknown>): boolean =>
  Object.entries(OPTIONAL_FIELDS).every(([field, type]) => value[field] === undefined || typeof value[field] === type);

const isStringOrNull = (value: unknown): boolean => value === null || typeof value === 'string';
const isArrayOf = (value: unknown, check: (item: unknown) => boolean): value is unknown[] => Array.isArray(value) && value.every(check);

/**
 * True when `value` is an event that may travel on a bus: a known type with every field of the
 * right type. The events a node makes for itself (`returned`, `moderation-loaded`) never do,
 * nor do a bus's signals, which are not events.
 */
export function isChatEvent(value: unknown): value is ChatEvent {
  if (!isRecord(value) || typeof value['type'] !== 'string') return false;
  const fields = WIRE_FIELDS.get(value['type']);
  if (fields === undefined || !hasFields(value, fields) || !optionalsFit(value)) return false;
  if (value['type'] === 'banned') return isBan(value['ban']);
  return value['type'] !== 'roster' || isArrayOf(value['users'], (user) => hasFields(user, ROSTER_USER_FIELDS) && optionalsFit(user));
}

const isBan = (value: unknown): boolean => hasFields(value, BAN_FIELDS) && (value['until'] === null || typeof value['until'] === 'number');

const isHistoryEvent = (value: unknown): boolean =>
  isChatEvent(value) && (value.type === 'said' || value.type === 'acted');

const isUserData = (value: unknown): boolean =>
  hasFields(value, USER_DATA_FIELDS) &&
  isStringOrNull(value['away']) &&
  isStringOrNull(value['lastWhisperer']) &&
  isStringOrNull(value['identified']) &&
  (value['account'] === undefined || isStringOrNull(value['account'])) &&
  isArrayOf(value['ignores'], (id) => typeof id === 'string');

const isRoomData = (value: unknown): boolean =>
  isRecord(value) && typeof value['room'] === 'string' && isStringOrNull(value['topic']) && isArrayOf(value['history'], isHistoryEvent) &&
  (value['used'] === undefined || typeof value['used'] === 'number');

/** True when `value` is a whole snapshot of the state, as `ChatState.toJSON` makes it. */
export function isStateData(value: unknown): value is StateData {
  return isRecord(value) && isArrayOf(value['users'], isUserData) && isArrayOf(value['rooms'], isRoomData);
}
