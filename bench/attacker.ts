/**
 * Child process: the amplification attack of #18 item 7. Logs a crowd in, each away with a long
 * reason, into a room of its own, then has some of them send `/who` at a steady rate, reading (and dropping) every byte
 * the server writes back, as a real attacker would to keep its connections open. Alone in its
 * process, beside the generator that measures the chat of two other users.
 */
import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isMessage, type CrowdSpec, sendToParent } from './wire';

/** How a listing cut short ends (texts.ts `andMore`): one per `/who` answered in a crowd. */
const CUT_SHORT = Buffer.from('*** ... and ');
const SLOW_DOWN = Buffer.from('*** slow down\n');
const LOGIN_CONCURRENCY = 200;

interface Member {
  readonly name: string;
  readonly socket: Socket;
  /** What was read so far before the awaited text came; dropped once it has. */
  pending: string;
  /** The end of the last chunk, so that a marker split between two reads is still found. */
  tail: Buffer;
}

const crowd: Member[] = [];
let bytesRead = 0;
let replies = 0;
let slowDowns = 0;
let attack: NodeJS.Timeout[] = [];

function count(member: Member, chunk: Buffer): void {
  bytesRead += chunk.length;
  const data = member.tail.length === 0 ? chunk : Buffer.concat([member.tail, chunk]);
  for (let at = data.indexOf(CUT_SHORT); at !== -1; at = data.indexOf(CUT_SHORT, at + 1)) replies += 1;
  for (let at = data.indexOf(SLOW_DOWN); at !== -1; at = data.indexOf(SLOW_DOWN, at + 1)) slowDowns += 1;
  // Kept short of a whole marker, so that no marker is counted twice.
  member.tail = Buffer.from(data.subarray(Math.max(0, data.length - (CUT_SHORT.length - 1))));
}

/** Resolves once `text` has come on the member's connection. */
function until(member: Member, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      member.pending += chunk.toString('latin1');
      if (!member.pending.includes(text)) return;
      member.pending = '';
      member.socket.off('data', onData).off('close', onClose);
      resolve();
    };
    const onClose = () => reject(new Error(`the server closed ${member.name} before '${text.trim()}': ${member.pending.slice(-200)}`));
    member.socket.on('data', onData).once('close', onClose);
  });
}

async function join(port: number, index: number, reason: string, room: string): Promise<Member> {
  const socket = connect({ port, host: '127.0.0.1', noDelay: true });
  const member: Member = { name: `a${index}`, socket, pending: '', tail: Buffer.alloc(0) };
  socket.on('error', () => {}); // 'close' follows, and says it
  const welcomed = until(member, `Welcome, ${member.name}\n`);
  socket.write(`${member.name}\n`);
  await welcomed;
  const away = until(member, '*** you are away: ');
  socket.write(`/away ${reason}\n`);
  await away;
  const moved = until(member, `*** ${member.name} just joined ${room}\n`);
  socket.write(`/join ${room}\n`);
  await moved;
  socket.on('data', (chunk: Buffer) => count(member, chunk)); // from now on, what comes is counted
  return member;
}

async function gather(spec: CrowdSpec): Promise<void> {
  const reason = 'r'.repeat(spec.awayChars);
  let next = 0;
  const worker = async () => {
    while (next < spec.users) crowd.push(await join(spec.port, next++, reason, spec.room));
  };
  await Promise.all(Array.from({ length: Math.min(LOGIN_CONCURRENCY, spec.users) }, worker));
}

/** Each attacker sends `/who` every 1/rate seconds, the attackers spread over that interval. */
function startAttack(attackers: number, whoPerSecond: number): void {
  const intervalMs = 1000 / whoPerSecond;
  bytesRead = 0;
  replies = 0;
  slowDowns = 0;
  attack = crowd.slice(0, attackers).map((member, index) =>
    setTimeout(() => {
      member.socket.write('/who\n');
      attack.push(setInterval(() => member.socket.write('/who\n'), intervalMs));
    }, (intervalMs * index) / attackers));
}

let startedAt = 0;
let cpuAtStart = process.cpuUsage();

process.on('message', (message: unknown) => {
  if (isMessage(message, 'crowd')) {
    gather(message.spec).then(
      () => sendToParent<'crowd-ready'>({ type: 'crowd-ready' }),
      (err: unknown) => sendToParent<'failed'>({ type: 'failed', message: err instanceof Error ? err.message : String(err) }),
    );
  } else if (isMessage(message, 'attack-start')) {
    startAttack(message.attackers, message.whoPerSecond);
    startedAt = performance.now();
    cpuAtStart = process.cpuUsage();
    sendToParent<'attacking'>({ type: 'attacking' });
  } else if (isMessage(message, 'attack-stop')) {
    attack.forEach(clearTimeout);
    attack = [];
    const seconds = (performance.now() - startedAt) / 1000;
    const { user, system } = process.cpuUsage(cpuAtStart);
    const closed = crowd.filter((member) => member.socket.closed).length;
    sendToParent<'attack-stopped'>({ type: 'attack-stopped', replies, bytesRead, slowDowns, closed, seconds, cpuPercent: ((user + system) / 1e4) / seconds });
  }
});
process.on('disconnect', () => process.exit(0)); // the orchestrator is gone: do not outlive it
