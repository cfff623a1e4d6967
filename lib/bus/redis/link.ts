import Redis from 'ioredis';
import { Subject } from 'rxjs';
import type { Delivery, StateAnswer, StateQuestion } from '../../chat/bus';
import type { RedisBusOptions } from './options';
import { STREAM_START } from './stream-id';

/**
 * How long Redis has to answer a command before this node takes it as out of reach: a network
 * that drops packets closes nothing, and without this the node would wait on it for ever.
 */
export const COMMAND_TIMEOUT_MS = 2_000;
/** How long one blocking read of the stream waits for an event. */
export const READ_BLOCK_MS = 1_000;

/** The keys of one cluster's bus, each under its prefix. */
export function busKeys(prefix: string) {
  return {
    stream: `${prefix}events`,
    snapshot: `${prefix}snapshot`,
    /** The history of `room` as the snapshot at stream id `at` wrote it. */
    history: (room: string, at: string) => `${prefix}history:${room}:${at}`,
    histories: `${prefix}history:`,
    lease: `${prefix}snapshot-lease`,
    nodes: `${prefix}nodes`,
    node: (node: string) => `${prefix}node:${node}`,
    reaped: (node: string) => `${prefix}reaped:${node}`,
  };
}

export type BusKeys = ReturnType<typeof busKeys>;

function connect(url: string, commandTimeout: number): Redis {
  const redis = new Redis(url, {
    commandTimeout,
    enableOfflineQueue: false, // while Redis is away events go round this node, never into a queue
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (times) => Math.min(times * 100, 1_000),
    // Closing a connection whose Redis died, ioredis waits this long for a 'close' that already
    // came (2 s by default), holding a stopping process open.
    disconnectTimeout: 100,
  });
  redis.on('error', () => {}); // the 'close' is what counts; ioredis reconnects by itself
  return redis;
}

/**
 * What the mechanisms of one node's Redis bus share: its connections and keys, where it stands
 * (up, and at which entry of the stream), and the Subject of what it hands out.
 */
export class Link {
  /** True while Redis answers and this node reads the cluster's stream from the cluster's state. */
  up = false;
  /** True once `close()` let Redis go. */
  closed = false;
  /** True while someone reads `events$`: a snapshot is of their state, which follows the stream then only. */
  reading = false;
  /** Moved by each recovery and outage: a read or a snapshot begun before it is void. */
  generation = 0;
  /** The last entry handed out. */
  lastId = STREAM_START;
  readonly keys: BusKeys;
  readonly commands: Redis;
  /** A blocking read holds its connection: the stream is read on one of its own. */
  readonly reader: Redis;
  /** What the bus hands out, in its order. */
  readonly out = new Subject<Delivery>();
  private answered: StateAnswer | undefined;

  constructor(readonly options: RedisBusOptions) {
    this.keys = busKeys(options.prefix);
    this.commands = connect(options.url, COMMAND_TIMEOUT_MS);
    this.reader = connect(options.url, READ_BLOCK_MS + COMMAND_TIMEOUT_MS);
  }

  get node(): string {
    return this.options.nodeId;
  }

  log(message: string): void {
    this.options.log(message);
  }

  /** True while what began at `generation` still holds: no outage, recovery or close came since. */
  holds(generation: number): boolean {
    return generation === this.generation && this.up && !this.closed;
  }

  /**
   * What the chat answers, at once, to `question` about its state at this point of the bus;
   * undefined when nobody reads, or nobody answers.
   */
  ask(question: StateQuestion): StateAnswer | undefined {
    this.answered = undefined;
    this.out.next({ type: 'asked', question });
    const answer = this.answered;
    this.answered = undefined;
    return answer;
  }

  /** The chat's answer to the question asked now. */
  readonly answer = (answer: StateAnswer): void => {
    this.answered = answer;
  };

  // Redis failing a command while connected (refusing it, or not answering) is left and rejoined:
  // the rejoin's roster makes the cluster whole again.
  rejoin(): void {
    if (this.up && this.commands.status === 'ready') this.commands.disconnect(true);
  }
}
