/**
 * Limits shared through Redis (REDIS_URL) by two real service processes on one PostgreSQL, and what an instance does
 * when its Redis is unreachable: it counts in the database (still enforced, still shared), warns once, and never
 * prints the URL. The machine's real Redis (REDIS_TEST_URL, default redis://127.0.0.1:6379), one key prefix per
 * run; only those keys are deleted.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { freePort } from '../support/free-port';
import { cliJson, Cluster, get, Instance, startCluster } from './support/instances';

jest.setTimeout(180_000);

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const ATTACKER = '203.0.113.66';
const CLIENT_HOST = '198.51.100.7';
const LIMITS = {
  LOG_FORMAT: 'json',
  RATE_LIMIT_PER_MINUTE: '1000',
  RATE_LIMIT_CLIENT_PER_MINUTE: '1000',
  RATE_LIMIT_FAILED_SECRETS: '4',
};

async function token(
  instance: Instance,
  address: string,
  clientId: string,
  clientSecret: string,
): Promise<{ status: number; retryAfter: string | null }> {
  const res = await fetch(`${instance.url}/v1/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-for': address },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
  await res.arrayBuffer();
  return { status: res.status, retryAfter: res.headers.get('retry-after') };
}

async function rateLimitRows(cluster: Cluster): Promise<number> {
  const ds = await new DataSource({ type: 'postgres', url: cluster.database.url }).initialize();
  try {
    return Number((await ds.query<Array<{ n: string }>>('SELECT count(*) AS n FROM rate_limits'))[0]!.n);
  } finally {
    await ds.destroy();
  }
}

describe('two instances with the same REDIS_URL', () => {
  const prefix = `awa-multi:${randomBytes(6).toString('hex')}:`;
  let redis: Redis;
  let cluster: Cluster;
  let a: Instance;
  let b: Instance;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    cluster = await startCluster(2, { ...LIMITS, REDIS_URL, REDIS_KEY_PREFIX: prefix });
    [a, b] = cluster.instances as [Instance, Instance];
  });
  afterAll(async () => {
    await cluster?.stop();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length) await redis.del(...keys);
    await redis.quit();
  });

  it('share one count: guessing a client secret across both instances ends in 429 on both', async () => {
    const account = await cliJson<{ clientId: string; clientSecret: string }>(cluster, [
      'service-account',
      'create',
      '--name',
      'redis-shared',
    ]);
    const failures = [];
    // Alternating instances: four failures in all (two on each) reach the limit of four.
    for (const instance of [a, b, a, b])
      failures.push((await token(instance, ATTACKER, account.clientId, 'wrong-secret')).status);
    expect(failures).toEqual([401, 401, 401, 401]);
    for (const instance of [a, b]) {
      const limited = await token(instance, ATTACKER, account.clientId, account.clientSecret);
      expect(limited.status).toBe(429);
      expect(Number(limited.retryAfter)).toBeGreaterThan(0);
    }
    // The same client from its own address still gets its token, from either instance.
    for (const instance of [a, b])
      expect((await token(instance, CLIENT_HOST, account.clientId, account.clientSecret)).status).toBe(200);
    // Counted in Redis, under the prefix, with an expiry; nothing in the database.
    expect((await redis.keys(`${prefix}secret:${account.clientId}*`)).length).toBeGreaterThan(0);
    expect(await rateLimitRows(cluster)).toBe(0);
    for (const instance of [a, b])
      expect((await get(instance, '/readyz')).body.details.limits).toEqual({ status: 'up', store: 'redis' });
  });

  it('count exactly under a concurrent flood spread over both instances', async () => {
    const account = await cliJson<{ clientId: string; clientSecret: string }>(cluster, [
      'service-account',
      'create',
      '--name',
      'redis-flood',
    ]);
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => token(cluster.instances[i % 2]!, ATTACKER, account.clientId, `wrong-${i}`)),
    );
    // Exactly the limit's worth of guesses reached the secret check; every other one was refused before it.
    expect(statuses.filter((s) => s.status === 401)).toHaveLength(4);
    expect(statuses.filter((s) => s.status === 429)).toHaveLength(36);
  });
});

describe('an instance whose Redis is unreachable', () => {
  let cluster: Cluster;
  let instance: Instance;

  beforeAll(async () => {
    // A closed port, and a password in the URL that must never be printed.
    cluster = await startCluster(1, { ...LIMITS, REDIS_URL: `redis://:hunter2-secret@127.0.0.1:${await freePort()}` });
    instance = cluster.instances[0]!;
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('starts, reports the database as its limit store in /readyz, and still refuses guessing', async () => {
    const ready = await get(instance, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.details.limits).toMatchObject({
      status: 'up',
      store: 'database',
      redisUnavailable: expect.stringContaining('Redis does not answer'),
    });
    expect(JSON.stringify(ready.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|localhost/);
    const account = await cliJson<{ clientId: string; clientSecret: string }>(cluster, [
      'service-account',
      'create',
      '--name',
      'redis-down',
    ]);
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await token(instance, ATTACKER, account.clientId, 'wrong-secret')).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429]);
    expect((await token(instance, CLIENT_HOST, account.clientId, account.clientSecret)).status).toBe(200);
    expect(await rateLimitRows(cluster)).toBeGreaterThan(0);
  });

  it('says so in one structured warning, and never prints the URL or its password', () => {
    const warnings = instance
      .output()
      .split('\n')
      .filter((line) => line.includes('limits.redis_unavailable'));
    expect(warnings).toHaveLength(1);
    expect(JSON.parse(warnings[0]!)).toMatchObject({
      level: 'warn',
      context: 'Limits',
      message: { event: 'limits.redis_unavailable', store: 'database' },
    });
    expect(instance.output()).not.toMatch(/hunter2|redis:\/\//);
  });
});
