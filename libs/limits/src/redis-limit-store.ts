import type Redis from 'ioredis';
import { LimitCount, LimitCounter, LimitStore, LimitStoreHealth } from './limit-store';

/*
 * Fixed-window counters in Redis, the same semantics as SqlLimitStore: one hash per bucket holding the window's hit
 * count and its end. Each hit is ONE Lua script (Redis runs a script atomically), so concurrent requests on any
 * number of instances never lose a count and never see a key without its expiry. The key's TTL is the window, so
 * ended windows disappear on their own: nothing to sweep.
 *
 * The window end is the instance's clock (the `now` the middleware passes), as in the database store; it is written
 * as a string the client computed, so Lua's number formatting never rounds it.
 */
const HIT = `
local ends = tonumber(redis.call('HGET', KEYS[1], 'ends'))
if ends == nil or ends <= tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'hits', 1, 'ends', ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, ARGV[3]}
end
return {redis.call('HINCRBY', KEYS[1], 'hits', 1), redis.call('HGET', KEYS[1], 'ends')}
`;

/* Takes a hit back only from the window it was counted in (same end), and never below zero. */
const REFUND = `
if redis.call('HGET', KEYS[1], 'ends') == ARGV[1] and tonumber(redis.call('HGET', KEYS[1], 'hits')) > 0 then
  return redis.call('HINCRBY', KEYS[1], 'hits', -1)
end
return -1
`;

/** ioredis runs a defined command as EVALSHA and falls back to EVAL when Redis has not seen the script yet. */
interface LimitScripts {
  limitHit(key: string, now: string, windowMs: string, endsAt: string): Promise<[number, string]>;
  limitRefund(key: string, endsAt: string): Promise<number>;
}

export class RedisLimitStore implements LimitStore {
  private readonly redis: Redis & LimitScripts;

  /** `prefix` namespaces every key (REDIS_KEY_PREFIX, e.g. `awa:limits:`), so a shared Redis stays tidy. */
  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('limitHit', { numberOfKeys: 1, lua: HIT });
    redis.defineCommand('limitRefund', { numberOfKeys: 1, lua: REFUND });
    this.redis = redis as Redis & LimitScripts;
  }

  async hit(counters: readonly LimitCounter[], now: number): Promise<LimitCount[]> {
    // One script per bucket, sent together (the client pipelines commands issued in the same tick).
    return Promise.all(
      counters.map(async (c) => {
        const [hits, endsAt] = await this.redis.limitHit(
          this.key(c.bucket),
          String(now),
          String(c.windowMs),
          String(now + c.windowMs),
        );
        return { bucket: c.bucket, hits: Number(hits), windowEndsAt: Number(endsAt) };
      }),
    );
  }

  async refund(bucket: string, windowEndsAt: number): Promise<void> {
    await this.redis.limitRefund(this.key(bucket), String(windowEndsAt));
  }

  /** Keys expire with their window. */
  sweep(): Promise<number> {
    return Promise.resolve(0);
  }

  health(): LimitStoreHealth {
    return { store: 'redis' };
  }

  private key(bucket: string): string {
    return `${this.prefix}${bucket}`;
  }
}
