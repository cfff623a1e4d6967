import { eventProblem } from '../../chat/wire';
import { isChatEvent } from '../../chat/event-shapes';
import { type Link, READ_BLOCK_MS } from './link';
import type { OwnRoster } from './own-roster';
import type { Replay } from './replay';
import type { Writer } from './writer';

/** Stream entries one read takes at most: with ENTRY_EVENTS, what one turn of a catching-up node hands out. */
export const READ_BATCH_ENTRIES = 100;
/**
 * Characters of entries a node hands out in one turn of its event loop before it lets the rest of
 * the chat (its users' input, the snapshot) have a turn: a read of long lines never holds it long.
 */
export const READ_TURN_CHARS = 256 * 1024;
/** How long the reader waits before trying again while Redis is out of reach. */
const RETRY_MS = 100;

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A read loop's lifetime: it reads while `on`, and stops at its next step once not. */
export interface Reading {
  on: boolean;
}

/**
 * The read loop: a blocking read of the stream after the last entry handed out, whose entries'
 * events are checked and handed out in order. Entries that are not events are logged and skipped.
 */
export class Reader {
  constructor(private readonly link: Link, private readonly writer: Writer, private readonly replay: Replay, private readonly roster: OwnRoster) {}

  /** Reads until `reading` is off or the bus closed; never rejects. */
  async run(reading: Reading): Promise<void> {
    const { link } = this;
    const holds = (from: number) => reading.on && link.holds(from);
    while (reading.on && !link.closed) {
      if (!link.up) {
        await pause(RETRY_MS);
        continue;
      }
      const from = link.generation;
      try {
        const reply = await link.reader.xread('COUNT', READ_BATCH_ENTRIES, 'BLOCK', READ_BLOCK_MS, 'STREAMS', link.keys.stream, link.lastId);
        if (!holds(from)) continue; // begun before an outage: read again after it
        let chars = 0;
        for (const [id, fields] of (reply ?? []).flatMap(([, entries]) => entries)) {
          link.lastId = id;
          this.hand(id, fields);
          chars += fields[1]?.length ?? 0;
          if (chars < READ_TURN_CHARS) continue;
          chars = 0;
          await nextTurn();
          if (!holds(from)) break; // an outage meanwhile: the rest is read again after it
        }
        if (holds(from)) this.replay.read(reply !== null);
      } catch {
        if (!link.closed) await pause(RETRY_MS);
      }
    }
  }

  // An entry holds an array of events (or, from a node before batching, one event), and the write
  // that made it. Shown before, its events are `replayed`: entries this node handed out before an
  // outage, or one of its writes that failed, whose events it handed out then.
  private hand(id: string, fields: string[]): void {
    const unsure = !this.writer.settle(fields[3]);
    const replayed = this.replay.covers(id) || unsure;
    let value: unknown;
    try {
      value = JSON.parse(fields[1] ?? '');
    } catch {
      value = undefined;
    }
    for (const event of Array.isArray(value) ? value : [value]) {
      const problem = isChatEvent(event) ? eventProblem(event, this.link.options.limits) : 'not an event this node knows';
      if (problem !== undefined) this.link.log(`bus: skipped entry ${id}, ${problem}: ${(JSON.stringify(event) ?? fields[1] ?? '').slice(0, 200)}`);
      else if (isChatEvent(event)) this.link.out.next(replayed ? { type: 'replayed', event } : this.roster.read(event));
    }
  }
}
