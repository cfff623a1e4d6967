import { type Client, type Harness, startHarness } from './support/client';
import { describeWithRedis, uniquePrefix, useCluster } from './support/redis';

/** ann in #main; bob and cat in #games, dan and eve in #main. On two nodes: bob and dan on b, the others on a. */
interface Seats {
  readonly ann: Client;
  readonly games: readonly [Client, Client];
  readonly main: readonly [Client, Client];
}

/** What each of `clients` reads up to `line`, which they all get. */
const readUntil = async (clients: readonly Client[], line: string): Promise<string[]> =>
  Promise.all(clients.map(async (client) => client.until(line)));

/** Seats the users on `a` and `b`, which may be one server. */
async function seat(a: Harness, b: Harness): Promise<Seats> {
  const [bob, cat] = [await b.join('bob'), await a.join('cat')];
  bob.say('/join #games');
  await bob.until('*** bob just joined #games\n');
  cat.say('/join #games');
  await readUntil([bob, cat], '*** cat just joined #games\n');
  const [dan, eve] = [await b.join('dan'), await a.join('eve')];
  const ann = await a.join('ann');
  await readUntil([dan, eve], '*** ann just joined the chatroom\n');
  return { ann, games: [bob, cat], main: [dan, eve] };
}

/** What `main` read up to a line `word` that dan says in #main now, after all that was published before it. */
async function mainUntil(main: Seats['main'], word: string): Promise<string[]> {
  main[0].say(word);
  return readUntil(main, `[dan] ${word}\n`);
}

describeWithRedis('a cluster of chatd nodes, for what a user types right after a change of their own', () => {
  const { node } = useCluster();
  let alone: Harness | undefined; // a single node, for what the cluster must match
  afterEach(async () => {
    await alone?.stop();
    alone = undefined;
  });

  const onCluster = async (): Promise<Seats> => {
    const prefix = uniquePrefix();
    const [a, b] = [await node(prefix), await node(prefix)];
    return seat(a, b);
  };

  it('sends a line typed with /join, in one write, to the new room on both nodes and to nobody in the old one', async () => {
    const { ann, games, main } = await onCluster();
    ann.socket.write('/join #games\nhello\n');
    await readUntil(games, '*** ann just joined #games\n');
    ann.say('and more'); // typed in #games once hello is out, to whichever room it went
    for (const seen of await readUntil(games, '] and more\n')) expect(seen).toBe('[ann] hello\n[ann] and more\n');
    for (const seen of await mainUntil(main, 'now')) expect(seen).toBe('*** ann moved to #games\n[dan] now\n');
  });

  it('shows a line typed with /nick, in one write, under the new name on both nodes', async () => {
    const { ann, main } = await onCluster();
    ann.socket.write('/nick ann2\nhi\n');
    for (const seen of await readUntil([ann, ...main], '] hi\n')) expect(seen).toBe('*** ann is now known as ann2\n[ann2] hi\n');
  });

  it('shows every user what one node shows them for lines and commands typed in one write with /join and /nick', async () => {
    const typed = '/join #games\n/who\nhello\n/nick ann2\n/whois ann2\nhi\n/join #main\nbye\n';
    const timeless = (transcripts: string[]) => transcripts.map((seen) => seen.replace(/connected for .*\n/, 'connected for ...\n'));
    // Each step reads up to a line that ends it on one node; the cluster is held to the same.
    const steps = [
      async ({ main }: Seats) => timeless(await readUntil(main, '] bye\n')),
      async ({ games }: Seats) => timeless(await readUntil(games, ' moved to #main\n')),
      async ({ ann }: Seats) => timeless([await ann.until('] bye\n')]),
    ];
    alone = await startHarness();
    const single = await seat(alone, alone);
    single.ann.socket.write(typed);
    const expected: string[][] = [];
    for (const step of steps) expected.push(await step(single));
    const clustered = await onCluster();
    clustered.ann.socket.write(typed);
    for (const [n, step] of steps.entries()) expect(await step(clustered)).toEqual(expected[n]);
    expect(expected[2]).toEqual([
      '*** ann moved to #games\n*** ann just joined #games\n*** 3 in #games: bob, cat, ann\n[ann] hello\n' +
        '*** ann is now known as ann2\n*** ann2: in #games, connected for ...\n[ann2] hi\n*** ann2 moved to #main\n' +
        '*** ann2 just joined the chatroom\n[ann2] bye\n',
    ]);
  });

  it('delivers what a user typed with /join before their input ended, then says goodbye in the new room', async () => {
    const { ann, games, main } = await onCluster();
    ann.socket.end('/join #games\nhello\n');
    await readUntil(games, '*** ann just joined #games\n');
    for (const seen of await mainUntil(main, 'now')) expect(seen).toBe('*** ann moved to #games\n[dan] now\n');
    for (const seen of await readUntil(games, '*** ann has disconnected\n')) expect(seen).toBe('[ann] hello\n*** ann has disconnected\n');
    for (const seen of await mainUntil(main, 'later')) expect(seen).toBe('[dan] later\n');
  });
});
