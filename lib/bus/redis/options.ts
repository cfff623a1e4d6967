import type { ModerationLoaded } from '../../chat/events';
import type { WireLimits } from '../../chat/wire';

export interface RedisBusOptions {
  /** `redis://host:port`, or the path of a unix socket. */
  readonly url: string;
  /** Put before every key, so that clusters share one Redis. */
  readonly prefix: string;
  /** This node, unique per process start: the prefix of its users' ids. */
  readonly nodeId: string;
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
