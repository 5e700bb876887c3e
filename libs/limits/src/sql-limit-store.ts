import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { fromSql, PortableSql } from '@app/persistence';
import { LimitCount, LimitCounter, LimitStore } from './limit-store';

/*
 * Fixed-window counters in the `rate_limits` table, one upsert per bucket: the first hit of a window inserts (or
 * restarts an expired row), later hits add one. One statement, so concurrent requests on any number of instances
 * never lose a count (PostgreSQL and SQLite both run INSERT ... ON CONFLICT DO UPDATE atomically).
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
  constructor(private readonly dataSource: DataSource) {}

  private get sql(): PortableSql {
    return PortableSql.of(this.dataSource);
  }

  async hit(counters: readonly LimitCounter[], now: number): Promise<LimitCount[]> {
    if (counters.length === 0) return [];
    const results = await this.sql.transaction(counters.map((c) => ({ sql: HIT, params: [c.bucket, now + c.windowMs, now, now] })));
    return results.map((result, i) => {
      const row = result.rows[0]!;
      return { bucket: counters[i]!.bucket, hits: fromSql.number(row.hits), windowEndsAt: fromSql.number(row.window_ends_at) };
    });
  }

  async refund(bucket: string, windowEndsAt: number): Promise<void> {
    await this.sql.transaction([{ sql: REFUND, params: [bucket, windowEndsAt] }]);
  }

  async sweep(now: number): Promise<number> {
    const [result] = await this.sql.transaction([{ sql: SWEEP, params: [now] }]);
    return result!.affected;
  }
}
