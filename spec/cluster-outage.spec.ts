import { BUS_DOWN, BUS_UP } from '../lib/chat/texts';
import { describeWithRedis, uniquePrefix, useCluster } from './support/redis';

/**
 * Resolves once the wall clock has passed `time`: a login after this is later than one seen
 * before it by the millisecond clock that orders logins (a tie goes by node id, which is random).
 */
async function clockPassed(time: number): Promise<void> {
  while (Date.now() <= time) await new Promise<void>((resolve) => setImmediate(resolve));
}

describeWithRedis('a cluster of chatd nodes through a Redis outage', () => {
  const cluster = useCluster();
  const { node } = cluster;

  it('tells each node\'s users when Redis is lost and back, keeps local chat, and renames the later of two who took a name meanwhile', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix), await node(prefix)];
    const ann = await a.join('ann');
    const bob = await b.join('bob');
    await ann.until('*** bob just joined the chatroom\n');
    await cluster.redis().kill();
    await ann.until(BUS_DOWN);
    await bob.until(BUS_DOWN);
    const zedA = await a.join('zed');
    await ann.until('*** zed just joined the chatroom\n');
    zedA.say('alone on a');
    await ann.until('[zed] alone on a\n');
    await clockPassed(Date.now());
    const zedB = await b.join('zed'); // later by the clock: whichever node's roster comes first, this one is renamed
    await cluster.redis().restart();
    await ann.until(BUS_UP);
    await bob.until(BUS_UP);
    await zedB.until('*** username zed was taken on another server meanwhile; you are now zed_2\n');
    ann.say('together again');
    await bob.until('[ann] together again\n');
    zedA.say('still zed');
    await bob.until('[zed] still zed\n');
    expect(await zedA.until('[zed] still zed\n')).not.toContain('you are now');
    bob.say('/who');
    await bob.until('*** 4 in #main: ');
  }, 30_000);
});

describeWithRedis('a cluster of chatd nodes through a Redis outage, Redis keeping its data', () => {
  const cluster = useCluster('kept');
  const { node } = cluster;

  it('shows nothing twice once Redis is back, and makes every node agree on who is where', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix), await node(prefix)];
    const ann = await a.join('ann');
    const eve = await a.join('eve');
    const bob = await b.join('bob');
    const carl = await b.join('carl');
    await ann.until('*** carl just joined the chatroom\n');
    ann.say('before');
    await bob.until('[ann] before\n');
    await ann.until('[ann] before\n');
    await cluster.redis().kill();
    await ann.until(BUS_DOWN);
    await bob.until(BUS_DOWN);
    carl.say('/join #games');
    await bob.until('*** carl moved to #games\n');
    eve.say('/quit');
    await ann.until('*** eve has disconnected\n');
    await cluster.redis().restart();
    const annAfter = await ann.until(BUS_UP);
    await bob.until(BUS_UP);
    ann.say('after');
    const bobAfter = await bob.until('[ann] after\n');
    expect(annAfter + (await ann.until('[ann] after\n'))).not.toMatch(/before|just joined/);
    expect(bobAfter).not.toMatch(/before|just joined/);
    for (const watcher of [ann, bob]) {
      watcher.say('/who');
      expect(await watcher.until('\n')).toMatch(/^\*\*\* 2 in #main: (ann, bob|bob, ann)\n$/);
      watcher.say('/rooms');
      expect(await watcher.until('\n')).toMatch(/^\*\*\* rooms: .*#games \(1\)/);
    }
  }, 30_000);
});
