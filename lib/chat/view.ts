/**
 * What the node outside the chat may read of its state (metrics, `/stats`, the names online, the
 * accounts driver's operator names): a read-only view the chat hands out as a value when its
 * subscription makes the state, so nothing outside holds the state or changes it.
 */
export interface ChatView {
  /** When this node's chat began, in ms, as its clock reads. */
  readonly startedAt: number;
  /** How many users are logged in. */
  readonly online: number;
  /** How many rooms there are. */
  rooms(): number;
  /** The names online, a new array. */
  nicks(): string[];
  /** True when `name` is an operator's (configured or granted). */
  isOpName(name: string): boolean;
}

/** The view of a state that has `online`, `rooms()`, `nicks()` and a moderation with `isOpName`. */
export function viewOf(state: {
  readonly startedAt: number;
  readonly online: number;
  rooms(): readonly unknown[];
  nicks(): string[];
  readonly moderation: { isOpName(name: string): boolean };
}): ChatView {
  return {
    startedAt: state.startedAt,
    get online() {
      return state.online;
    },
    rooms: () => state.rooms().length,
    nicks: () => state.nicks(),
    isOpName: (name) => state.moderation.isOpName(name),
  };
}

/** The view before the chat runs: no one online, no rooms, no operators. */
export function emptyView(startedAt: number): ChatView {
  return { startedAt, online: 0, rooms: () => 0, nicks: () => [], isOpName: () => false };
}
