import { HEARTBEAT_MS, NODE_TTL_MS } from '../lib/bus/redis/liveness';
import { BUS_DOWN, SHUTTING_DOWN } from '../lib/chat/texts';
import { killAll, listeningPort, type Run, start } from './support/chatd';
import { type Client, visitorsOf } from './support/client';
import { sample, scrape } from './support/scrape';
import { describeWithRedis, uniquePrefix, useCluster } from './support/redis';

describeWithRedis('a cluster of chatd nodes on one Redis', () => {
  const cluster = useCluster();
  const { node } = cluster;
  afterEach(killAll); // the bin/chatd nodes some specs spawn

  it('is one chat: joins, lines, /who, /msg, /reply, /whois, /nick, /join, /rooms and topics across nodes', async () => {
    const prefix = uniquePrefix();
    const { ann, bob } = await cluster.annAndBob(prefix);
    ann.say('hello from a');
    await bob.until('[ann] hello from a\n');
    bob.say('/who');
    await bob.until('*** 2 in #main: ann, bob\n');
    bob.say('/msg ann psst');
    await ann.until('[PM from bob] psst\n');
    ann.say('/reply hi back');
    await bob.until('[PM from ann] hi back\n');
    bob.say('/whois ann');
    await bob.until('*** ann: in #main, connected for');
    ann.say('/nick anna');
    await bob.until('*** ann is now known as anna\n');
    bob.say('/join #side');
    await ann.until('*** bob moved to #side\n');
    ann.say('/rooms');
    await ann.until('*** rooms: #main (1), #side (1)\n');
    bob.say('/topic sides');
    await bob.until('*** bob set the topic: sides\n');
    ann.say('/join #side');
    await ann.until('*** topic of #side: sides\n');
    await bob.until('*** anna just joined #side\n');
  });

  it('lets the owner of a registered name take it over from a connection of theirs on another node, the rooms seeing nothing', async () => {
    const prefix = uniquePrefix();
    const { a, b, ann, bob } = await cluster.annAndBob(prefix);
    ann.say('/register correct-horse');
    await ann.until('logging in with it will ask for your password\n');
    ann.say('/join #games');
    await bob.until('*** ann moved to #games\n');
    bob.say('/join #games');
    await ann.until('*** bob just joined #games\n');
    await bob.until('*** bob just joined #games\n');
    const back = await b.visit();
    back.say('ann');
    await back.until('Password: ');
    back.say('correct-horse');
    await back.until('Welcome, ann\n*** your other connection was closed; you go on in #games\n');
    expect(await ann.rest()).toContain('*** you logged in elsewhere\n');
    back.say('on b now');
    expect(await bob.until('[ann] on b now\n')).toBe('[ann] on b now\n');
    const watcher = await a.join('cat');
    watcher.say('/who');
    expect(await watcher.until('in #main')).toBe('*** 1 in #main');
    watcher.say('/whois ann');
    await watcher.until('*** ann: in #games');
    await a.stop(); // the node of the old connection goes: ann, on b, stays
    bob.say('/who');
    expect(await bob.until('\n')).toBe('*** 2 in #games: bob, ann\n');
  });

  it('gives every receiver on three nodes the same order, each sender in its own', async () => {
    const prefix = uniquePrefix();
    const harnesses = [await node(prefix), await node(prefix), await node(prefix)];
    const clients: Client[] = [];
    for (const [n, harness] of harnesses.entries()) clients.push(await harness.join(`u${n}`));
    for (const client of clients.slice(0, 2)) await client.until('*** u2 just joined the chatroom\n');
    for (let line = 0; line < 30; line++) clients.forEach((client, n) => client.say(`${n}.${line}`));
    const seen = await Promise.all(clients.map(async (client) => {
      const lines: string[] = []; // the nodes' last lines may come in any order: all 90 are awaited
      while (lines.length < 90) {
        const line = (await client.until('\n')).slice(0, -1);
        if (line.startsWith('[u')) lines.push(line);
      }
      return lines;
    }));
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
    expect(seen[0]).toHaveLength(90);
    for (const n of [0, 1, 2]) {
      const own = (seen[0] ?? []).filter((line) => line.startsWith(`[u${n}]`));
      expect(own).toEqual([...Array(30).keys()].map((line) => `[u${n}] ${n}.${line}`));
    }
  });

  it('lets exactly one of two nodes have a name claimed on both at once, and asks the other again', async () => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix), await node(prefix)];
    const [one, two] = [await a.visit(), await b.visit()];
    one.say('bob');
    two.say('bob');
    const outcome = async (client: Client) => {
      const line = await client.until('\n');
      return line === 'Welcome, bob\n' ? 'in' : line;
    };
    const results = await Promise.all([outcome(one), outcome(two)]);
    expect([...results].sort()).toEqual(['*** username bob is taken\n', 'in']);
    const loser = results[0] === 'in' ? two : one;
    loser.say('bobby');
    await loser.until('*** bobby just joined the chatroom\n');
  });

  it('counts the cluster\'s live nodes and says whether the bus is up, in /metrics and /stats', async () => {
    const prefix = uniquePrefix();
    await node(prefix);
    const b = await node(prefix, { metricsListen: { host: '127.0.0.1', port: 0 } });
    const port = b.server.metricsAddress()?.port ?? 0;
    const figure = async (series: string) => sample((await scrape(port, '/metrics')).body, series);
    expect(await figure('chatd_bus_up')).toBe(1);
    expect(await figure('chatd_cluster_nodes')).toBe(2); // a node looks at the others before it serves
    expect((await scrape(port, '/stats')).body).toContain('\ncluster: bus up, 2 nodes alive\n');
    const ann = await b.join('ann');
    await cluster.redis().kill();
    await ann.until(BUS_DOWN);
    expect(await figure('chatd_bus_up')).toBe(0);
    expect(await figure('chatd_cluster_nodes')).toBe(1);
  });

  it('keeps what a user types between their name and its return', async () => {
    const [a] = [await node(uniquePrefix())];
    const ann = await a.visit();
    ann.say('ann');
    ann.say('first words');
    await ann.until('[ann] first words\n');
  });

  it('replays a room\'s last lines to a node started later', async () => {
    const prefix = uniquePrefix();
    const a = await node(prefix);
    const ann = await a.join('ann');
    ann.say('one');
    ann.say('two');
    await ann.until('[ann] two\n');
    const b = await node(prefix);
    const bob = await b.visit();
    bob.say('bob');
    expect(await bob.until('*** bob just joined the chatroom\n')).toContain('[ann] one\n[ann] two\n');
  });

  it('replays each room\'s last lines to a joiner after every node stopped and a new one started', async () => {
    const prefix = uniquePrefix();
    const { a, b, ann, bob } = await cluster.annAndBob(prefix);
    ann.say('one');
    await bob.until('[ann] one\n');
    bob.say('two');
    bob.say('/join #side');
    await bob.until('*** bob just joined #side\n');
    bob.say('three');
    await bob.until('[bob] three\n');
    await Promise.all([a.server.close(), b.server.close()]); // as SIGTERM stops them, users still on
    const c = await node(prefix);
    const cat = await c.visit();
    cat.say('cat');
    expect(await cat.until('*** cat just joined the chatroom\n')).toContain('[ann] one\n[bob] two\n*** cat just joined');
    cat.say('/join #side');
    expect(await cat.until('*** cat just joined #side\n')).toContain('[bob] three\n*** cat just joined #side');
  });

  it('sees the users of a node stopped with SIGTERM leave at once, told by that node, once each', async () => {
    const prefix = uniquePrefix();
    const runs: Run[] = [0, 1].map(() => start(['--host', '127.0.0.1', '--port', '0', '--redis', cluster.redis().url, '--redis-prefix', prefix]));
    const [portA, portB] = await Promise.all(runs.map(listeningPort));
    const [a, b] = [visitorsOf(portA ?? 0), visitorsOf(portB ?? 0)];
    try {
      const ann = await a.join('ann');
      const bob = await b.join('bob');
      await b.join('cat');
      await ann.until('*** cat just joined the chatroom\n');
      const stopped = Date.now();
      runs[1]?.child.kill('SIGTERM');
      await bob.until(SHUTTING_DOWN);
      const seen = await ann.until('*** cat has disconnected\n');
      expect(Date.now() - stopped).toBeLessThan(NODE_TTL_MS - HEARTBEAT_MS); // sooner than any reaper could
      expect(seen.match(/bob has disconnected/g)).toHaveLength(1);
      expect((await runs[1]?.exited)?.code).toBe(0);
      const [, node] = await runs[1]?.waitFor(/cluster node ([0-9a-f]{8}): its connections are #\1:N\n/) ?? [];
      expect(runs[1]?.log()).toMatch(new RegExp(`connect #${node}:1 from `)); // the id the log's lines use
      ann.say('/who');
      expect(await ann.until('\n')).toBe('*** 1 in #main: ann\n'); // and no departure twice before it
    } finally {
      a.closeAll();
      b.closeAll();
    }
  }, 30_000);

  it('sees a SIGKILLed node\'s users leave within 15 s, once each, and frees their names', async () => {
    const prefix = uniquePrefix();
    const runs: Run[] = [0, 1].map(() => start(['--host', '127.0.0.1', '--port', '0', '--redis', cluster.redis().url, '--redis-prefix', prefix]));
    const [portA, portB] = await Promise.all(runs.map(listeningPort));
    const [a, b] = [visitorsOf(portA ?? 0), visitorsOf(portB ?? 0)];
    try {
      const ann = await a.join('ann');
      await b.join('bob');
      await b.join('cat');
      await ann.until('*** cat just joined the chatroom\n');
      runs[1]?.child.kill('SIGKILL');
      const seen = await ann.until('*** cat has disconnected\n');
      expect(seen.match(/bob has disconnected/g)).toHaveLength(1);
      ann.say('/who');
      expect(await ann.until('\n')).toBe('*** 1 in #main: ann\n');
      await a.join('bob');
    } finally {
      a.closeAll();
      b.closeAll();
    }
  }, 30_000);
});
