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
