import { killAll, listeningPort, start } from './support/chatd';
import { type Harness, startHarness, visitorsOf } from './support/client';
import { describeWithRedis, type GuardedRedis, startGuardedRedis, uniquePrefix } from './support/redis';
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
