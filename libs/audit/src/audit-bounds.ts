import { Tx } from '@app/persistence';
import { AuditContext, AuditRecord } from './audit.types';

/*
 * Bounds the trail against junk. An unauthenticated failure (an anonymous caller's refused sign-in, a wrong client
 * secret, ...) is written in full the first time per address, event type and reason in a window; further ones in
 * that window only add to a counter, and when the window has ended one summary event carries their count. So a
 * flood from one address adds two rows per reason and window, however many requests it sends; every authenticated
 * action and every success is still recorded one by one.
 */
export const AGGREGATION_WINDOW_MS = 60_000;

export function isUnauthenticatedFailure(context: AuditContext, record: AuditRecord): boolean {
  return context.actorType === 'anonymous' && record.outcome === 'failure';
}

interface WindowRow {
  client_ip: string | null;
  type: string;
  reason: string | null;
  first_at: string | number;
  last_at: string | number;
  hits: string | number;
}

const COUNT =
  'INSERT INTO audit_failure_windows (bucket, client_ip, type, reason, window_ends_at, first_at, last_at, hits) VALUES (?, ?, ?, ?, ?, ?, ?, 0) ' +
  'ON CONFLICT (bucket) DO UPDATE SET hits = audit_failure_windows.hits + 1, last_at = excluded.last_at WHERE audit_failure_windows.window_ends_at > excluded.first_at RETURNING hits';
const TAKE_ENDED_OF_BUCKET = 'DELETE FROM audit_failure_windows WHERE bucket = ? AND window_ends_at <= ? RETURNING client_ip, type, reason, first_at, last_at, hits';
const TAKE_ENDED = 'DELETE FROM audit_failure_windows WHERE window_ends_at <= ? RETURNING client_ip, type, reason, first_at, last_at, hits';

export interface WindowSummary {
  context: AuditContext;
  record: AuditRecord;
  occurredAt: Date;
}

function bucketOf(context: AuditContext, record: AuditRecord): string {
  return `${context.clientIp?.slice(0, 64) ?? '-'}|${record.type}|${record.reason ?? '-'}`;
}

function summaryOf(row: WindowRow): WindowSummary | null {
  const hits = Number(row.hits);
  if (hits === 0) return null;
  return {
    context: { actorType: 'anonymous', clientIp: row.client_ip },
    record: { type: row.type, outcome: 'failure', reason: row.reason, details: { aggregated: true, count: hits, from: new Date(Number(row.first_at)).toISOString(), to: new Date(Number(row.last_at)).toISOString() } },
    occurredAt: new Date(Number(row.last_at)),
  };
}

/**
 * Counts one unauthenticated failure. Returns what must be written to the chain now: the failure itself when it is
 * the first of its window (after the summary of this bucket's previous window, if that one had more), or nothing.
 */
export async function countFailure(tx: Tx, context: AuditContext, record: AuditRecord, now: number): Promise<WindowSummary[]> {
  const bucket = bucketOf(context, record);
  const write: WindowSummary[] = [];
  // An ended window of this bucket is summarised before a new one starts (the periodic flush does the rest).
  const ended = await tx.query<WindowRow>(TAKE_ENDED_OF_BUCKET, [bucket, now]);
  for (const row of ended.rows) {
    const summary = summaryOf(row);
    if (summary) write.push(summary);
  }
  const counted = await tx.query<{ hits: string | number }>(COUNT, [bucket, context.clientIp?.slice(0, 64) ?? null, record.type, record.reason ?? null, now + AGGREGATION_WINDOW_MS, now, now]);
  // hits 0: this request opened the window, so it is written in full.
  if (Number(counted.rows[0]?.hits ?? 0) === 0) write.push({ context, record, occurredAt: new Date(now) });
  return write;
}

/** Takes every ended window and returns the summaries to write (the windows' rows are gone with this unit). */
export async function takeEndedWindows(tx: Tx, now: number): Promise<WindowSummary[]> {
  const ended = await tx.query<WindowRow>(TAKE_ENDED, [now]);
  return ended.rows.map(summaryOf).filter((s): s is WindowSummary => s !== null);
}
