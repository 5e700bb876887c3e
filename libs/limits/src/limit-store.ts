/** One counter to bump: a bucket names what is limited (e.g. `secret:<client id>:<address>`). */
export interface LimitCounter {
  bucket: string;
  windowMs: number;
}

export interface LimitCount {
  bucket: string;
  /** Hits in the current window, this one included. */
  hits: number;
  /** Epoch ms when the current window ends (and the count starts again from zero). */
  windowEndsAt: number;
}

/** Where the counters are kept right now, for /readyz. */
export interface LimitStoreHealth {
  store: 'database' | 'redis';
  /** Set when REDIS_URL is configured but Redis does not answer: the database counts meanwhile (why, without the URL). */
  redisUnavailable?: string;
}

/**
 * Where the counters live. Shared by every instance of the service, so a limit holds whichever instance a request
 * reaches: the database by default (SqlLimitStore), Redis when REDIS_URL is set (RedisLimitStore, with the database
 * as its fallback: FailoverLimitStore).
 */
export interface LimitStore {
  /** Counts one hit in each bucket, atomically per bucket, and returns the counts of their current windows. */
  hit(counters: readonly LimitCounter[], now: number): Promise<LimitCount[]>;
  /** Takes back a hit counted in the window that ends at `windowEndsAt` (an attempt that turned out not to fail). */
  refund(bucket: string, windowEndsAt: number): Promise<void>;
  /** Forgets buckets whose window has ended; returns how many. */
  sweep(now: number): Promise<number>;
  health(): LimitStoreHealth;
}

export const LIMIT_STORE = Symbol('LIMIT_STORE');
