import { Injectable } from '@nestjs/common';
import { UnitOfWork } from '@app/persistence';
import { LimitCount, LimitCounter, LimitStore, LimitStoreHealth } from './limit-store';

/*
 * Fixed-window counters in the `rate_limits` table, one upsert per bucket: the first hit of a window inserts (or
 * restarts an expired row), later hits add one. One statement, so concurrent requests on any number of instances
 * never lose a count (PostgreSQL and SQLite both run INSERT ... ON CONFLICT DO UPDATE atomically).
 * This store is the limits' repository (the `LimitStore` port's SQL side; the rules are in limit-rules.ts and the
 * middleware), named so in queries-in-repositories.spec.ts: the one file outside `*.repository.ts` that runs SQL.
 */
const HIT = `INSERT INTO rate_limits (bucket, hits, window_ends_at) VALUES (?, 1, ?)
  ON CONFLICT (bucket) DO UPDATE SET
    hits = CASE WHEN rate_limits.window_ends_at <= ? THEN 1 ELSE rate_limits.hits + 1 END,
    window_ends_at = CASE WHEN rate_limits.window_ends_at <= ? THEN excluded.window_ends_at ELSE rate_limits.window_ends_at END
  RETURNING hits, window_ends_at`;
const REFUND = 'UPDATE rate_limits SET hits = hits - 1 WHERE bucket = ? AND window_ends_at = ? AND hits > 0';
const SWEEP = 'DELETE FROM rate_limits WHERE window_ends_at <= ?';

@Injectable()
export class SqlLimitStore implements LimitStore {
  constructor(private readonly uow: UnitOfWork) {}

  async hit(counters: readonly LimitCounter[], now: number): Promise<LimitCount[]> {
    if (counters.length === 0) return [];
    return this.uow.run(async (tx) => {
      const counts: LimitCount[] = [];
      for (const c of counters) {
        const { rows } = await tx.query<{ hits: number | string; window_ends_at: number | string }>(HIT, [
          c.bucket,
          now + c.windowMs,
          now,
          now,
        ]);
        // PostgreSQL returns bigint columns as strings.
        counts.push({ bucket: c.bucket, hits: Number(rows[0]!.hits), windowEndsAt: Number(rows[0]!.window_ends_at) });
      }
      return counts;
    });
  }

  async refund(bucket: string, windowEndsAt: number): Promise<void> {
    await this.uow.run((tx) => tx.query(REFUND, [bucket, windowEndsAt]));
  }

  async sweep(now: number): Promise<number> {
    return this.uow.run(async (tx) => (await tx.query(SWEEP, [now])).affected);
  }

  health(): LimitStoreHealth {
    return { store: 'database' };
  }
}
