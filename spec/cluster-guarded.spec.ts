import Redis from 'ioredis';
import type { ServerEvent } from '../lib/server';
import { killAll, listeningPort, start } from './support/chatd';
import { type Harness, startHarness, visitorsOf } from './support/client';
import { describeWithRedis, type GuardedRedis, startGuardedRedis, uniquePrefix, useCluster } from './support/redis';
import { certificateFolder, type CertificateFiles, makeCertificate } from './support/tls';

const PASSWORD = 'guarded-s3cret';

describeWithRedis('a cluster on a Redis that asks for a password', () => {
  let folder: Awaited<ReturnType<typeof certificateFolder>>;
  let certificate: CertificateFiles;
  let redis: GuardedRedis;
  let nodes: Harness[] = [];
  const others: ReturnType<typeof visitorsOf>[] = [];

  beforeAll(async () => {
    folder = await certificateFolder();
    certificate = await makeCertificate(folder.dir, 'redis', 'localhost');
  });
  afterAll(async () => folder.remove());
  beforeEach(async () => {
    redis = await startGuardedRedis(PASSWORD, certificate);
  });
  afterEach(async () => {
    others.splice(0).forEach((visitors) => visitors.closeAll());
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
    await killAll();
    await redis.stop();
  });

  it('runs one chat on it with the password in the URL, over plain TCP and over TLS (rediss://)', async () => {
    const prefix = uniquePrefix();
    const plain = await startHarness({ redis: `redis://:${PASSWORD}@127.0.0.1:${redis.port}`, redisPrefix: prefix });
    nodes.push(plain);
    // The certificate is trusted as the operator's own CA would be: Node takes it from the environment.
    const overTls = start(['--host', '127.0.0.1', '--port', '0', '--redis', `rediss://:${PASSWORD}@localhost:${redis.tlsPort}`, '--redis-prefix', prefix],
      { NODE_EXTRA_CA_CERTS: certificate.certFile });
    const visitors = visitorsOf(await listeningPort(overTls));
    others.push(visitors);
    const ann = await plain.join('ann');
    const bob = await visitors.join('bob');
    await ann.until('*** bob just joined the chatroom\n');
    bob.say('hello over TLS');
    await ann.until('[bob] hello over TLS\n');
    ann.say('hello in the clear');
    await bob.until('[ann] hello in the clear\n');
    expect(overTls.log()).not.toContain(PASSWORD);
  });

  it('will not start with a wrong password, and says why without showing the password', async () => {
    const { code, stderr } = await start(['--port', '0', '--redis', `redis://:not-${PASSWORD}@127.0.0.1:${redis.port}`]).exited;
    expect(code).toBe(1);
    expect(stderr).toContain(`cannot reach Redis at redis://:***@127.0.0.1:${redis.port}`);
    expect(stderr).toContain('WRONGPASS');
    expect(stderr).not.toContain(PASSWORD);
  });
});

describeWithRedis('a cluster whose Redis someone else writes to', () => {
  const cluster = useCluster();

  it('shows none of the forged events that break the rules of typed input, logs one line for each, and goes on', async () => {
    const prefix = uniquePrefix();
    const logged: string[] = [];
    const onEvent = (event: ServerEvent) => {
      if (event.kind === 'bus') logged.push(event.message);
    };
    const a = await cluster.node(prefix, { onEvent });
    const ann = await a.join('ann');
    const forged = [
      { type: 'topic', user: 'x:1', nick: 'ann', room: '#main', topic: 't'.repeat(100_000), at: 0 },
      { type: 'renamed', user: 'x:1', from: 'ann', nick: 'root\nlogin #1 root', room: '#main', at: 0 },
      { type: 'said', user: 'x:1', nick: 'ann', room: '#main', text: '\x1b]0;owned\x07hi', at: 0 },
    ];
    const raw = new Redis(cluster.redis().url);
    await raw.xadd(`${prefix}events`, '*', 'e', JSON.stringify(forged));
    raw.disconnect();
    ann.say('after the forgery');
    const seen = await ann.until('[ann] after the forgery\n');
    expect(seen).toBe('[ann] after the forgery\n');
    expect(logged.filter((line) => line.startsWith('bus: skipped entry'))).toHaveLength(forged.length);
    ann.say('/topic');
    await ann.until('*** #main has no topic\n');
  });
});
