import type { ModerationLoaded, StateData } from '../../chat/events';
import type { HistoryChanges } from '../../chat/state';
import type { WireLimits } from '../../chat/wire';

export interface RedisBusOptions {
  /** `redis://host:port`, or the path of a unix socket. */
  readonly url: string;
  /** Put before every key, so that clusters share one Redis. */
  readonly prefix: string;
  /** This node, unique per process start: the prefix of its users' ids. */
  readonly nodeId: string;
  /** The state as of the last event handed out: what a snapshot holds. */
  readonly snapshot: SnapshotSource;
  /** The limits set by flags that events on the bus are checked against: every node of a cluster must share them. */
  readonly limits: WireLimits;
  /**
   * Reads again the cluster's data that the snapshot does not hold (moderation's, from the store),
   * as the event that loads it: handed out just after `restored`, before the stream's events that
   * follow the snapshot, so a change another node made meanwhile holds here too. Rejecting keeps
   * this node's as it was, and is logged.
   */
  readonly reload: () => Promise<ModerationLoaded>;
  /** Where the bus says what went wrong (bad entries, lost writes, outages). */
  readonly log: (message: string) => void;
}

/** What a snapshot is made of: the state but for its rooms' histories, and those apart, only the rooms changed. */
export interface SnapshotSource {
  /** The state, every room's history left out. */
  outline(): StateData;
  /** The rooms whose history changed after `since` (0 at first), and the version to ask from next. */
  historyChanges(since: number): HistoryChanges;
}
