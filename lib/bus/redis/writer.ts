import type { ChatEvent } from '../../chat/events';
import { redisProblem } from '../redis-problem';
import type { Link } from './link';

/**
 * Events one stream entry holds at most. A node writes what it published in one turn of the
 * event loop as one entry: one command, one entry id and one parse for the whole turn, where an
 * entry per event made each node's cost grow with every line of the cluster.
 */
export const ENTRY_EVENTS = 500;
/**
 * Characters of JSON one stream entry holds at most (an event longer than this has an entry to
 * itself): entries of long lines stay small, so that what one read hands out is bounded in bytes
 * (READ_BATCH_ENTRIES of them), not only in entries.
 */
export const ENTRY_CHARS = 32 * 1024;

/** Events as stream entries: at most ENTRY_EVENTS and (but for one long event) ENTRY_CHARS each, in order. */
function entriesOf(batch: readonly ChatEvent[]): { readonly events: ChatEvent[]; readonly json: string }[] {
  const made: { events: ChatEvent[]; json: string }[] = [];
  let events: ChatEvent[] = [];
  let texts: string[] = [];
  let chars = 0;
  for (const event of batch) {
    const text = JSON.stringify(event);
    if (events.length >= ENTRY_EVENTS || (events.length > 0 && chars + text.length > ENTRY_CHARS)) {
      made.push({ events, json: `[${texts.join(',')}]` });
      [events, texts, chars] = [[], [], 0];
    }
    events.push(event);
    texts.push(text);
    chars += text.length + 1;
  }
  if (events.length > 0) made.push({ events, json: `[${texts.join(',')}]` });
  return made;
}

/**
 * This node's side of the stream: what it publishes in one turn is written as one entry (or a
 * few) at the turn's end. While Redis is out of reach, and for what Redis would not take, events
 * go round this node alone: a departure lost would leave a ghost.
 */
export class Writer {
  private pending: ChatEvent[] = []; // published this turn, written as one entry at its end
  private writes = 0;
  private writesRead = 0; // the last of this node's writes read back from the stream
  // This node's writes that failed but that Redis may have carried out (it did not answer in time).
  private readonly unsure = new Set<number>();
  private lastWrite: Promise<unknown> = Promise.resolve();

  /** `lostUnwritten`: a dead node whose loss Redis did not take, to be reaped again on rejoining. */
  constructor(private readonly link: Link, private readonly lostUnwritten: (node: string) => void) {}

  readonly publish = (event: ChatEvent): void => {
    if (!this.link.up) {
      this.link.out.next(event);
      return;
    }
    if (this.pending.length === 0) setImmediate(this.write);
    this.pending.push(event);
  };

  /** Writes what was published; resolves once Redis answered the last write. */
  async flush(): Promise<void> {
    this.write();
    await this.lastWrite;
  }

  /** At an outage, once it is told: what was queued for Redis happens here alone. */
  down(): void {
    const queued = this.pending;
    this.pending = []; // the write queued for them finds nothing
    this.unwritten(queued);
  }

  /**
   * False when the entry written as `tag` is a write this node took as failed, whose events it
   * handed out then; this node's later writes, read, settle the earlier ones.
   */
  settle(tag: string | undefined): boolean {
    const [node, count] = (tag ?? '').split('/');
    if (node !== this.link.node) return true;
    const write = Number(count);
    this.writesRead = Math.max(this.writesRead, write);
    for (const earlier of this.unsure) if (earlier < write) this.unsure.delete(earlier);
    return !this.unsure.delete(write);
  }

  // Users' events Redis did not take still happen here, as during an outage; a roster or a node's
  // loss speaks to the others alone (this node's roster, awaited, comes at the outage this causes).
  private unwritten(entry: readonly ChatEvent[]): void {
    for (const event of entry) {
      if (event.type === 'node-lost' && event.node !== this.link.node) this.lostUnwritten(event.node);
      else if (event.type !== 'roster' && event.type !== 'node-lost') this.link.out.next(event);
    }
    this.link.rejoin();
  }

  private readonly write = (): void => {
    const batch = this.pending;
    this.pending = [];
    for (const { events: entry, json } of entriesOf(batch)) {
      const write = ++this.writes;
      this.lastWrite = this.link.commands.xadd(this.link.keys.stream, '*', 'e', json, 'w', `${this.link.node}/${write}`).catch((err: unknown) => {
        if (write <= this.writesRead) {
          this.link.rejoin(); // Redis carried it out, and it was read back: only its answer was lost
          return;
        }
        this.link.log(`bus: could not write ${entry.length} events (${entry[0]?.type} first), so they reach this node alone: ${redisProblem(err)}`);
        this.unsure.add(write);
        this.unwritten(entry);
      });
    }
  };
}
