/**
 * The Redis limit store (REDIS_URL) in the real application, on the machine's real Redis (REDIS_TEST_URL, default
 * redis://127.0.0.1:6379): the counters live in Redis, and whenever Redis does not answer — at start-up or in the
 * middle of a flood — the database counts instead. Never open: a guess is refused with or without Redis.
 * Each app gets its own key prefix; only those keys are deleted.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { DataSource } from 'typeorm';
import { freePort } from '../support/free-port';
import { startTcpRelay, TcpRelay } from '../support/tcp-relay';
import {
  createServiceAccount,
  requestClientToken,
  ServiceAccountCredentials,
  startTestApp,
  TestApp,
} from '../support/test-app';

jest.setTimeout(120_000);

const REDIS_URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const ATTACKER = '203.0.113.66';
const CLIENT_HOST = '198.51.100.7';
const LIMITS = { RATE_LIMIT_PER_MINUTE: '1000', RATE_LIMIT_CLIENT_PER_MINUTE: '1000', RATE_LIMIT_FAILED_SECRETS: '3' };

const prefix = () => `awa-e2e:${randomBytes(6).toString('hex')}:`;
let redis: Redis;
const prefixes: string[] = [];

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  for (const p of prefixes) {
    const keys = await redis.keys(`${p}*`);
    if (keys.length) await redis.del(...keys);
  }
  await redis.quit();
});

async function startWithRedis(url: string, keyPrefix = prefix()): Promise<TestApp> {
  prefixes.push(keyPrefix);
  return startTestApp({ ...LIMITS, REDIS_URL: url, REDIS_KEY_PREFIX: keyPrefix });
}

function guess(t: TestApp, address: string, account: ServiceAccountCredentials, secret = 'wrong-secret') {
  return requestClientToken(t, account.clientId, secret).set('X-Forwarded-For', address);
}

async function rateLimitRows(t: TestApp): Promise<number> {
  const [row] = await t.app
    .get(DataSource)
    .query<Array<{ n: number | string }>>('SELECT count(*) AS n FROM rate_limits');
  return Number(row!.n);
}

async function limitsHealth(t: TestApp): Promise<Record<string, unknown>> {
  const res = await t.http.get('/readyz');
  expect(res.status).toBe(200);
  return res.body.details.limits as Record<string, unknown>;
}

/** Guesses until the answer is 429 (at most `max`), returning the statuses seen. */
async function guessUntilRefused(t: TestApp, account: ServiceAccountCredentials, max: number): Promise<number[]> {
  const statuses: number[] = [];
  while (statuses.length < max && statuses.at(-1) !== 429) statuses.push((await guess(t, ATTACKER, account)).status);
  return statuses;
}

describe('with REDIS_URL reachable', () => {
  let t: TestApp;
  let keyPrefix: string;
  beforeAll(async () => {
    keyPrefix = prefix();
    t = await startWithRedis(REDIS_URL, keyPrefix);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('counts wrong secrets in Redis under the prefix (not in the database) and answers 429 with Retry-After', async () => {
    const account = await createServiceAccount(t);
    expect(await guessUntilRefused(t, account, 10)).toEqual([401, 401, 401, 429]);
    const limited = await guess(t, ATTACKER, account, account.clientSecret);
    expect(limited.status).toBe(429);
    const retryAfter = Number(limited.headers['retry-after']);
    expect(retryAfter).toBeGreaterThan(800); // RATE_LIMIT_FAILURE_WINDOW_SECONDS, 900 by default
    expect(retryAfter).toBeLessThanOrEqual(900);
    // The same client from its own address still gets its token.
    expect((await guess(t, CLIENT_HOST, account, account.clientSecret)).status).toBe(200);
    const keys = await redis.keys(`${keyPrefix}*`);
    expect(keys.some((k) => k.startsWith(`${keyPrefix}secret:${account.clientId}|${ATTACKER}`))).toBe(true);
    for (const key of keys) expect(await redis.pttl(key)).toBeGreaterThan(0); // every key expires with its window
    expect(await rateLimitRows(t)).toBe(0);
    expect(await limitsHealth(t)).toEqual({ status: 'up', store: 'redis' });
  });

  it('takes back the count of an attempt that succeeded, so a client is never limited by its own successes', async () => {
    const account = await createServiceAccount(t);
    for (let i = 0; i < 6; i++) expect((await guess(t, CLIENT_HOST, account, account.clientSecret)).status).toBe(200);
    expect(await redis.hget(`${keyPrefix}secret:${account.clientId}|${CLIENT_HOST}`, 'hits')).toBe('0');
  });
});

describe('with Redis unreachable at start-up', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A closed port, and a password in the URL that must never be echoed.
    t = await startWithRedis(`redis://:hunter2-secret@127.0.0.1:${await freePort()}`);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('starts, is ready, says the database counts and why (without the URL or its password)', async () => {
    const health = await limitsHealth(t);
    expect(health).toMatchObject({ status: 'up', store: 'database', redisUnavailable: expect.any(String) });
    expect(JSON.stringify(health)).not.toMatch(/hunter2|redis:\/\//);
  });

  it('still refuses guessing (never fails open), counting in the database', async () => {
    const account = await createServiceAccount(t);
    expect(await guessUntilRefused(t, account, 10)).toEqual([401, 401, 401, 429]);
    expect((await guess(t, CLIENT_HOST, account, account.clientSecret)).status).toBe(200);
    expect(await rateLimitRows(t)).toBeGreaterThan(0);
  });
});

describe('with Redis lost in the middle of a flood and back again', () => {
  let t: TestApp;
  let relay: TcpRelay;
  let keyPrefix: string;
  beforeAll(async () => {
    const target = new URL(REDIS_URL);
    relay = await startTcpRelay(target.hostname, Number(target.port || 6379));
    keyPrefix = prefix();
    t = await startWithRedis(`redis://127.0.0.1:${relay.port}`, keyPrefix);
  });
  afterAll(async () => {
    await t?.close();
    await relay?.close();
  });

  it('keeps refusing the guesser while Redis is gone, then counts in Redis again once it is back', async () => {
    const account = await createServiceAccount(t);
    expect((await guess(t, ATTACKER, account)).status).toBe(401);
    expect((await guess(t, ATTACKER, account)).status).toBe(401);
    expect(await limitsHealth(t)).toEqual({ status: 'up', store: 'redis' });

    await relay.cut();
    // The database takes over with a fresh window: three more failures, then 429, never an open door.
    expect(await guessUntilRefused(t, account, 10)).toEqual([401, 401, 401, 429]);
    expect(await limitsHealth(t)).toMatchObject({ store: 'database', redisUnavailable: expect.any(String) });
    expect(await rateLimitRows(t)).toBeGreaterThan(0);

    await relay.restore();
    const deadline = Date.now() + 15_000;
    while ((await limitsHealth(t)).store !== 'redis' && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    expect(await limitsHealth(t)).toEqual({ status: 'up', store: 'redis' });
    // Back in Redis, the window counted before the cut still holds two failures: one more, then 429.
    expect(await guessUntilRefused(t, account, 10)).toEqual([401, 429]);
  });
});
