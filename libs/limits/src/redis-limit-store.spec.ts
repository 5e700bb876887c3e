/**
 * RedisLimitStore on the machine's real Redis (REDIS_TEST_URL, default redis://127.0.0.1:6379). Every run uses its
 * own key prefix and deletes only its own keys.
 */
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { RedisLimitStore } from './redis-limit-store';

const URL = process.env.REDIS_TEST_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `awa-test:${randomBytes(6).toString('hex')}:`;

let clients: Redis[];
let stores: RedisLimitStore[];

beforeAll(() => {
  // Four clients: four connections, like four instances counting at once.
  clients = Array.from({ length: 4 }, () => new Redis(URL, { enableAutoPipelining: true }));
  stores = clients.map((c) => new RedisLimitStore(c, PREFIX));
});

afterAll(async () => {
  const keys = await clients[0]!.keys(`${PREFIX}*`);
  if (keys.length) await clients[0]!.del(...keys);
  await Promise.all(clients.map((c) => c.quit()));
});

const store = () => stores[0]!;

describe('RedisLimitStore', () => {
  it('never loses or repeats a count when four connections hit one bucket 400 times at once', async () => {
    const now = Date.now();
    const counts = await Promise.all(
      Array.from({ length: 400 }, (_, i) => stores[i % 4]!.hit([{ bucket: 'race', windowMs: 60_000 }], now)),
    );
    const hits = counts.map((c) => c[0]!.hits).sort((a, b) => a - b);
    expect(hits).toEqual(Array.from({ length: 400 }, (_, i) => i + 1));
    // One window for all of them: the first hit fixed its end, the others read it.
    expect(new Set(counts.map((c) => c[0]!.windowEndsAt))).toEqual(new Set([now + 60_000]));
  });

  it('gives each bucket its own count and the window end a Retry-After is computed from', async () => {
    const now = Date.now();
    await store().hit([{ bucket: 'a', windowMs: 30_000 }], now);
    const [a, b] = await store().hit(
      [
        { bucket: 'a', windowMs: 30_000 },
        { bucket: 'b', windowMs: 900_000 },
      ],
      now + 1_000,
    );
    expect(a).toEqual({ bucket: 'a', hits: 2, windowEndsAt: now + 30_000 });
    expect(b).toEqual({ bucket: 'b', hits: 1, windowEndsAt: now + 1_000 + 900_000 });
  });

  it('stores each bucket under the prefix with the window as its TTL, so nothing needs sweeping', async () => {
    await store().hit([{ bucket: 'ttl', windowMs: 45_000 }], Date.now());
    const ttl = await clients[0]!.pttl(`${PREFIX}ttl`);
    expect(ttl).toBeGreaterThan(40_000);
    expect(ttl).toBeLessThanOrEqual(45_000);
    expect(await store().sweep()).toBe(0);
  });

  it('starts a new window once the old one has ended, and the key disappears on its own', async () => {
    const start = Date.now();
    for (let i = 0; i < 3; i++) await store().hit([{ bucket: 'short', windowMs: 300 }], start);
    // The instance's clock decides the window even before Redis has expired the key.
    const [restarted] = await store().hit([{ bucket: 'short', windowMs: 300 }], start + 300);
    expect(restarted).toMatchObject({ hits: 1, windowEndsAt: start + 600 });
    await new Promise((r) => setTimeout(r, 450));
    expect(await clients[0]!.exists(`${PREFIX}short`)).toBe(0);
  });

  it('takes a hit back only from the window it was counted in, and never below zero', async () => {
    const now = Date.now();
    const [first] = await store().hit([{ bucket: 'refund', windowMs: 60_000 }], now);
    await store().hit([{ bucket: 'refund', windowMs: 60_000 }], now);
    await store().refund('refund', first!.windowEndsAt + 1); // another window: ignored
    await store().refund('refund', first!.windowEndsAt);
    expect((await store().hit([{ bucket: 'refund', windowMs: 60_000 }], now))[0]!.hits).toBe(2);
    for (let i = 0; i < 5; i++) await store().refund('refund', first!.windowEndsAt);
    expect(await clients[0]!.hget(`${PREFIX}refund`, 'hits')).toBe('0');
    await store().refund('never-hit', now); // no key: nothing created
    expect(await clients[0]!.exists(`${PREFIX}never-hit`)).toBe(0);
  });

  it('keeps a 13-digit window end exact (no Lua number formatting on the way)', async () => {
    const now = 1_799_999_999_999;
    const [count] = await store().hit([{ bucket: 'exact', windowMs: 1 }], now);
    expect(count!.windowEndsAt).toBe(1_800_000_000_000);
    const [again] = await store().hit([{ bucket: 'exact-2', windowMs: 60_000 }], now - 123);
    expect((await store().hit([{ bucket: 'exact-2', windowMs: 60_000 }], now))[0]!.windowEndsAt).toBe(
      again!.windowEndsAt,
    );
  });
});
