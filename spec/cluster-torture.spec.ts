import { once } from 'node:events';
import { filter, firstValueFrom, type Observable, startWith, Subject, throwError, timeout } from 'rxjs';
import type { ChatServer, ServerEvent } from '../lib/server';
import { BUS_DOWN, BUS_UP } from '../lib/chat/texts';
import type { Client } from './support/client';
import { describeWithRedis, uniquePrefix, useCluster } from './support/redis';

const USERS = 24;
const OUTAGES = 3;
/** How often every user types a line: a flood that a Redis dying always catches mid-write. */
const TYPE_EVERY_MS = 10;
/** How long the nodes have to agree once everyone has gone, at most: a roster and the departures, with room to spare. */
const SETTLE_MS = 15_000;

/** What the users type in turn: every command that changes who is where, and chat around them. */
const lines = (user: number, turn: number): string =>
  ['hello', '/join #games', `/nick n${user}_${turn % 50}`, '/away busy', '/join #main', '/back', '/me waves', '/topic x', `/msg u${(user + 1) % USERS} hi`][turn % 9] ?? '';

/**
 * Resolves once `agreed()` holds, looked at now and at each departure a node reports (the last
 * change that can make it hold); rejects after `withinMs`, saying what `seen()` says.
 */
async function settled(departures: Observable<string>, agreed: () => boolean, withinMs: number, seen: () => string): Promise<void> {
  await firstValueFrom(departures.pipe(
    startWith('now'),
    filter(() => agreed()),
    timeout({ first: withinMs, with: () => throwError(() => new Error(`not settled within ${withinMs} ms: ${seen()}`)) }),
  ));
}

/** Every user in `users` (which may change) types a line each TYPE_EVERY_MS until the returned function is called. */
function flood(users: readonly Client[]): () => void {
  let turn = 0;
  const typing = setInterval(() => {
    turn += 1;
    users.forEach((user, index) => user.say(lines(index, turn + index)));
  }, TYPE_EVERY_MS);
  return () => clearInterval(typing);
}

for (const data of ['lost', 'kept'] as const) describeWithRedis(`a cluster of chatd nodes flooded through Redis outages, Redis's data ${data}`, () => {
  const cluster = useCluster(data);
  const { node } = cluster;

  it('ends with every node agreeing on who is left, whoever came and went around and during the outages', async () => {
    const prefix = uniquePrefix();
    const departures = new Subject<string>(); // the ids of those the nodes see leave
    const onEvent = (event: ServerEvent) => event.kind === 'logout' && departures.next(event.id);
    const nodes = [await node(prefix, { onEvent }), await node(prefix, { onEvent })] as const;
    const [watchA, watchB] = [await nodes[0].join('wa'), await nodes[1].join('wb')];
    const typing: Client[] = [];
    let arrivals = 0;
    const arrive = async (count: number) => {
      for (const last = arrivals + count; arrivals < last; arrivals++) typing.push(await (nodes[arrivals % 2] ?? nodes[0]).join(`u${arrivals}`));
    };
    const leaving: Promise<unknown>[] = [];
    const depart = (count: number) => {
      for (const user of typing.splice(0, count)) {
        leaving.push(once(user.socket, 'close'));
        user.socket.resetAndDestroy();
      }
    };
    await arrive(USERS);
    const stop = flood(typing);
    for (let outage = 0; outage < OUTAGES; outage++) {
      depart(2); // their departures are on their way when Redis dies
      await cluster.redis().kill();
      await Promise.all([watchA.until(BUS_DOWN), watchB.until(BUS_DOWN)]);
      depart(2);
      await arrive(2);
      if (outage % 2 === 1) await cluster.redis().restart(); // back and gone again, before the nodes are one
      await cluster.redis().restart();
      await Promise.all([watchA.until(BUS_UP), watchB.until(BUS_UP)]);
    }
    stop();
    depart(typing.length);
    await Promise.all(leaving);
    const onlyWatchers = (server: ChatServer) => server.users().sort().join() === 'wa,wb';
    const seen = () => nodes.map((each, index) => `node ${index} holds ${each.server.users().join(', ')}`).join('; ');
    await settled(departures, () => nodes.every((each) => onlyWatchers(each.server)), SETTLE_MS, seen);
  }, 60_000);
});
