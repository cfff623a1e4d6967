/**
 * Child process: the snapshot flood of issue 18, item 8. Each connection logs in, goes to a room
 * of its own, sets its topic, sends long lines and quits: every room keeps a topic, so it stays
 * with its history after its user leaves, and the cluster's history grows as fast as the nodes
 * take lines. Alone in its process so that the orchestrator, which measures chat latency beside
 * it, is not slowed by it.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { type FloodSpec, isMessage, sendToParent } from './wire';

/** Reads `socket` until `text` has come; false if it closed first. */
function seen(socket: ReturnType<typeof connect>, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    let read = '';
    const onData = (chunk: string) => {
      const unsearched = read + chunk;
      read = unsearched.slice(-text.length); // where a match that the next chunk ends may begin
      if (!unsearched.includes(text)) return;
      socket.off('data', onData).off('close', onClose);
      resolve(true);
    };
    const onClose = () => resolve(false);
    socket.setEncoding('utf8').on('data', onData).once('close', onClose);
  });
}

/** One connection of the flood; true when it did it all and the server closed it after /quit. */
async function floodOne(port: number, index: number, spec: FloodSpec): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  socket.on('error', () => {}); // a reset counts as not completed
  const closed = once(socket, 'close');
  const nick = `flood${index}`;
  const joined = seen(socket, `${nick} just joined`);
  socket.write(`${nick}\n`);
  if (!(await joined)) return false;
  socket.resume(); // what comes next (its own lines back) is read and dropped
  const padding = 'x'.repeat(Math.max(0, spec.lineBytes - 12));
  const lines = Array.from({ length: spec.lines }, (_, line) => `${String(line).padStart(10, '0')} ${padding}\n`);
  socket.write(`/join f${index}\n/topic the room of ${nick}\n${lines.join('')}/quit\n`);
  await closed;
  return true;
}

async function flood(spec: FloodSpec): Promise<void> {
  const started = performance.now();
  const runs: Promise<boolean>[] = [];
  for (let index = 0; index < spec.connections; index += 1) {
    const due = started + (index * spec.spreadMs) / spec.connections;
    const wait = due - performance.now();
    if (wait > 1) await sleep(wait);
    runs.push(floodOne(spec.ports[index % spec.ports.length] ?? 0, index, spec));
  }
  const done = await Promise.all(runs);
  sendToParent<'flooded'>({ type: 'flooded', result: { floodMs: performance.now() - started, completed: done.filter(Boolean).length } });
}

process.on('message', (message: unknown) => {
  if (!isMessage(message, 'flood')) return;
  flood(message.spec).catch((err: unknown) => sendToParent<'failed'>({ type: 'failed', message: err instanceof Error ? err.message : String(err) }));
});
process.on('disconnect', () => process.exit(0));
