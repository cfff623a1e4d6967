/**
 * Chat latency between two users, one on each node of a cluster, measured while something else
 * loads the nodes: each sends a stamped line every PROBE_EVERY_MS, and each reads both users'
 * lines; a line's latency is from its send to its receipt, by one clock (this process's).
 */
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';

/** How often each probe user sends a line. */
export const PROBE_EVERY_MS = 50;

const nowMs = (): number => performance.now();

/** Latencies of lines received, in ms, kept by the node that delivered them while recording. */
export class Probe {
  private readonly sockets: Socket[] = [];
  private readonly received: number[][];
  private recording = false;
  private timer: NodeJS.Timeout | undefined;

  private constructor(readonly nodes: number) {
    this.received = Array.from({ length: nodes }, () => []);
  }

  /** Logs a probe user in on each port, and waits until each sees the others. */
  static async start(ports: readonly number[]): Promise<Probe> {
    const probe = new Probe(ports.length);
    for (const [node, port] of ports.entries()) probe.sockets.push(await probe.logIn(node, port));
    return probe;
  }

  private async logIn(node: number, port: number): Promise<Socket> {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => {});
    socket.setNoDelay(true);
    await once(socket, 'connect');
    let unread = '';
    let welcomed: () => void = () => {};
    const welcome = new Promise<void>((resolve) => (welcomed = resolve));
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (unread + chunk).split('\n');
      unread = lines.pop() ?? '';
      for (const line of lines) this.read(node, line, welcomed);
    });
    socket.write(`probe${node}\n`);
    await welcome;
    return socket;
  }

  private read(node: number, line: string, welcomed: () => void): void {
    if (line.startsWith(`*** probe${node} just joined`)) welcomed();
    const stamp = /^\[probe\d+\] p (\d+(?:\.\d+)?)$/.exec(line)?.[1];
    if (stamp !== undefined && this.recording) this.received[node]?.push(nowMs() - Number(stamp));
  }

  /** Sends from every probe user every PROBE_EVERY_MS, recording what arrives, until `stop`. */
  record(): void {
    for (const latencies of this.received) latencies.length = 0;
    this.recording = true;
    this.timer = setInterval(() => {
      for (const socket of this.sockets) socket.write(`p ${nowMs().toFixed(3)}\n`);
    }, PROBE_EVERY_MS);
  }

  /** Stops recording; the latencies each node delivered, in ms, sorted. */
  stop(): number[][] {
    clearInterval(this.timer);
    this.recording = false;
    return this.received.map((latencies) => [...latencies].sort((a, b) => a - b));
  }

  close(): void {
    clearInterval(this.timer);
    for (const socket of this.sockets) socket.destroy();
  }
}

/** The value at `fraction` (0.99 for p99) of sorted `values`; NaN for none. */
export const percentile = (values: readonly number[], fraction: number): number =>
  values.length === 0 ? Number.NaN : (values[Math.min(values.length - 1, Math.floor(fraction * values.length))] ?? Number.NaN);
