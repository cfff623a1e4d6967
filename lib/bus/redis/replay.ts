import type { Link } from './link';
import { isBefore, later, STREAM_START } from './stream-id';

/**
 * What this node showed before an outage, coming again after it rejoins: from the snapshot it
 * rejoins from up to the last entry it handed out, handed out as `replayed` (applied to rebuild
 * the state, never shown twice).
 */
export class Replay {
  private shownUpTo = STREAM_START; // the last entry handed out before an outage: what this node's users saw
  private until: string | undefined; // after a recovery, until read: entries shown before it

  constructor(private readonly link: Link) {}

  /** At an outage: what was handed out so far was shown. */
  down(): void {
    this.shownUpTo = later(this.shownUpTo, this.link.lastId);
    this.until = undefined;
  }

  /**
   * The entry to replay up to after the snapshot at `snapshotId`, or undefined: nothing was shown
   * after it, or the stream lost it (a Redis restarted empty), and what comes is new.
   */
  async upTo(snapshotId: string): Promise<string | undefined> {
    if (!isBefore(snapshotId, this.shownUpTo)) return undefined;
    const kept = await this.link.commands.xrange(this.link.keys.stream, this.shownUpTo, this.shownUpTo);
    return kept.length > 0 ? this.shownUpTo : undefined;
  }

  /** Just after `restored`: the entries up to `until` were shown already. */
  start(until: string | undefined): void {
    this.until = until;
  }

  /** True when entry `id` was shown before; past the replay's last entry, what comes is new. */
  covers(id: string): boolean {
    if (this.until === undefined) return false;
    if (!isBefore(this.until, id)) return true;
    this.until = undefined;
    return false;
  }

  /** After a read: the replay is over once its last entry is handed out, or when the stream had no more. */
  read(any: boolean): void {
    if (!any || this.link.lastId === this.until) this.until = undefined;
  }
}
