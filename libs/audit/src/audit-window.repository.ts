import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';

/** One aggregation window as stored (see audit-bounds.ts); PostgreSQL returns its bigint columns as strings. */
export interface WindowRow {
  client_ip: string | null;
  type: string;
  reason: string | null;
  summary_of: string | null;
  first_at: string | number;
  last_at: string | number;
  hits: string | number;
}

/** What one aggregated event counts in its bucket's window. */
export interface WindowHit {
  bucket: string;
  clientIp: string | null;
  type: string;
  reason: string | null;
  /** The summary's template (JSON), or null for an unauthenticated failure's window. */
  summaryOf: string | null;
  at: number;
  windowEndsAt: number;
}

/*
 * One statement per hit: the first hit of a window inserts it with hits 0 (that event is written in full), later
 * ones add one, so concurrent requests on any number of instances never lose a count.
 */
const COUNT =
  'INSERT INTO audit_failure_windows (bucket, client_ip, type, reason, summary_of, window_ends_at, first_at, last_at, hits) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0) ' +
  'ON CONFLICT (bucket) DO UPDATE SET hits = audit_failure_windows.hits + 1, last_at = excluded.last_at WHERE audit_failure_windows.window_ends_at > excluded.first_at RETURNING hits';
const WINDOW_COLUMNS = 'client_ip, type, reason, summary_of, first_at, last_at, hits';
const TAKE_ENDED_OF_BUCKET = `DELETE FROM audit_failure_windows WHERE bucket = ? AND window_ends_at <= ? RETURNING ${WINDOW_COLUMNS}`;
const TAKE_ENDED = `DELETE FROM audit_failure_windows WHERE window_ends_at <= ? RETURNING ${WINDOW_COLUMNS}`;

/** The audit trail's aggregation windows (`audit_failure_windows`): counted, then taken once they have ended. */
@Injectable()
export class AuditWindowRepository {
  /** Counts a hit in its bucket's open window; 0 when this hit opened the window. */
  async count(tx: Tx, hit: WindowHit): Promise<number> {
    const counted = await tx.query<{ hits: string | number }>(COUNT, [
      hit.bucket,
      hit.clientIp,
      hit.type,
      hit.reason,
      hit.summaryOf,
      hit.windowEndsAt,
      hit.at,
      hit.at,
    ]);
    return Number(counted.rows[0]?.hits ?? 0);
  }

  /** Deletes and returns the windows ended by `now`: every bucket's, or only `bucket`'s. */
  async takeEnded(tx: Tx, now: number, bucket?: string): Promise<WindowRow[]> {
    const ended =
      bucket === undefined
        ? await tx.query<WindowRow>(TAKE_ENDED, [now])
        : await tx.query<WindowRow>(TAKE_ENDED_OF_BUCKET, [bucket, now]);
    return ended.rows;
  }
}
