/** Room names: what `/join` accepts, and the one form every room is known by. */

/** The longest room name, `#` not counted. */
export const MAX_ROOM_NAME_LENGTH = 32;

const ROOM_NAME = new RegExp(`^[a-z0-9_-]{1,${MAX_ROOM_NAME_LENGTH}}$`);

/** A room as typed (`games`, `#Games`) in its one form (`#games`), or why it cannot be one. */
export function roomName(typed: string): { readonly room: string } | { readonly problem: string } {
  const bare = (typed.startsWith('#') ? typed.slice(1) : typed).toLowerCase();
  if (ROOM_NAME.test(bare)) return { room: `#${bare}` };
  return { problem: `room names are 1 to ${MAX_ROOM_NAME_LENGTH} of a-z 0-9 - _, with or without a leading #` };
}
