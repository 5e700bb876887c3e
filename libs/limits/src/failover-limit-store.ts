import { Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { LimitCount, LimitCounter, LimitStore, LimitStoreHealth } from './limit-store';
import { RedisLimitStore } from './redis-limit-store';

/** After a failed Redis call, count in the database for this long before trying Redis again. */
const RETRY_REDIS_AFTER_MS = 5_000;

/**
 * A Redis client that never makes a request wait for Redis: no offline queue (while disconnected a command fails at
 * once), a short command timeout (a hung Redis costs one request half a second, then the cool-down above), and
 * reconnection in the background forever.
 */
export function connectRedis(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    connectTimeout: 2_000,
    // On shutdown, a socket that never closes is destroyed after this long (ioredis keeps a timer for it even when
    // the socket is long gone, which would hold the process for its default 2 s).
    disconnectTimeout: 300,
    enableAutoPipelining: true,
    retryStrategy: (attempt) => Math.min(attempt * 250, 5_000),
  });
}

/** An error's message without the URL or its password, should a driver ever echo them. */
function redacted(error: unknown, url: string): string {
  let message = error instanceof Error ? error.message : String(error);
  const password = (() => {
    try {
      return decodeURIComponent(new URL(url).password);
    } catch {
      return '';
    }
  })();
  message = message.split(url).join('REDIS_URL');
  return password ? message.split(password).join('***') : message;
}

/**
 * The limit store when REDIS_URL is set: counts in Redis, and in the database whenever Redis does not answer.
 *
 * Never fails open. An attacker who could make Redis unreachable (a flood, a network fault) must not thereby switch
 * the limits off, so the fallback is the database store — still enforced, still shared by every instance, only
 * slower. Counts made in one store are not carried over to the other (a window started in Redis starts again from
 * zero in the database), which is at most one extra window's allowance, once per outage. The switch is logged once
 * each way and reported by /readyz; the URL is never logged (it may hold a password).
 */
const REDIS_UNAVAILABLE = 'Redis does not answer: the limits are counted in the database (the service log says why)';

export class FailoverLimitStore implements LimitStore, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('Limits');
  private readonly redisStore: RedisLimitStore;
  /** Why Redis is not used right now; undefined while it answers. */
  private unavailable: string | undefined;
  private retryRedisAt = 0;

  constructor(
    private readonly redis: Redis,
    private readonly url: string,
    keyPrefix: string,
    private readonly database: LimitStore,
  ) {
    this.redisStore = new RedisLimitStore(redis, keyPrefix);
    // ioredis reports every failed reconnection as an 'error' event (unhandled, it would print its own lines).
    redis.on('error', (error: unknown) => this.fellBack(error));
    redis.on('ready', () => this.recovered());
  }

  /** Start-up waits for the first connection attempt (at most a few seconds), so the first requests use Redis. */
  async onModuleInit(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.redis.off('ready', done).off('error', done);
        resolve();
      };
      const timer = setTimeout(done, 3_000);
      this.redis.once('ready', done).once('error', done);
    });
    if ((this.redis.status as string) !== 'ready')
      this.fellBack(new Error(`no connection at start-up (${this.redis.status})`));
  }

  async onApplicationShutdown(): Promise<void> {
    // QUIT lets pending commands finish; without a connection there is nothing to finish, and the reconnection
    // timer must stop or the process would not exit.
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect(false);
  }

  async hit(counters: readonly LimitCounter[], now: number): Promise<LimitCount[]> {
    if (this.redisUsable()) {
      try {
        const counts = await this.redisStore.hit(counters, now);
        // A command that failed while the connection stayed up (a timeout) leaves no 'ready' event to recover on.
        if (this.unavailable !== undefined) this.recovered();
        return counts;
      } catch (error) {
        this.fellBack(error);
      }
    } else if (this.unavailable === undefined && this.redis.status !== 'ready') {
      // Lost between two reconnection attempts: no 'error' event yet, but the database is counting from here.
      this.fellBack(new Error(`the Redis connection is ${this.redis.status}`));
    }
    return this.database.hit(counters, now);
  }

  async refund(bucket: string, windowEndsAt: number): Promise<void> {
    // A refund only matches the window it was counted in, so one sent to the other store changes nothing.
    if (this.redisUsable()) {
      try {
        return await this.redisStore.refund(bucket, windowEndsAt);
      } catch (error) {
        this.fellBack(error);
      }
    }
    return this.database.refund(bucket, windowEndsAt);
  }

  /** Redis keys expire on their own; the database may hold windows counted during an outage. */
  sweep(now: number): Promise<number> {
    return this.database.sweep(now);
  }

  /**
   * What /readyz shows. It is unauthenticated, so the driver's message (it names Redis's host and port) stays in
   * the service log; the page only says that the database is counting.
   */
  health(): LimitStoreHealth {
    return this.unavailable === undefined
      ? { store: 'redis' }
      : { store: 'database', redisUnavailable: REDIS_UNAVAILABLE };
  }

  private redisUsable(): boolean {
    return this.redis.status === 'ready' && Date.now() >= this.retryRedisAt;
  }

  private fellBack(error: unknown): void {
    this.retryRedisAt = Date.now() + RETRY_REDIS_AFTER_MS;
    if (this.unavailable !== undefined) return;
    this.unavailable = redacted(error, this.url);
    this.logger.warn({
      message:
        'Redis does not answer: rate limits are counted in the database until it does (still enforced and shared)',
      event: 'limits.redis_unavailable',
      store: 'database',
      reason: this.unavailable,
    });
  }

  private recovered(): void {
    this.retryRedisAt = 0;
    if (this.unavailable === undefined) return;
    this.unavailable = undefined;
    this.logger.log({
      message: 'Redis answers again: rate limits are counted in Redis',
      event: 'limits.redis_available',
      store: 'redis',
    });
  }
}
