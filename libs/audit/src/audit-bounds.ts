import { createHash } from 'node:crypto';
import { Tx } from '@app/persistence';
import { AuditWindowRepository, WindowRow } from './audit-window.repository';
import { AuditContext, AuditRecord } from './audit.types';

/*
 * Bounds the trail against junk and against one credential's repetition. Three kinds of event are aggregated:
 * - an unauthenticated failure (an anonymous caller's refused sign-in, a wrong client secret, ...), per address,
 *   event type and reason;
 * - a refused call of an authenticated credential (a low-privileged token hammering admin routes), per credential,
 *   address, event type, reason and route;
 * - a service account's successful grant, per client and address.
 * Each is written in full the first time in a window; further ones in that window only add to a counter, and when
 * the window has ended one summary event carries their count (and names the actor, like the first one). So a flood
 * adds two rows per bucket and window, however many requests it sends; every other event is recorded one by one.
 */
export const AGGREGATION_WINDOW_MS = 60_000;

/** What a window's summary repeats from the events it counts (never their details beyond the route or client). */
interface SummaryOf {
  context: AuditContext;
  record: AuditRecord;
}

interface Aggregation {
  bucket: string;
  /** null: an unauthenticated failure's window, summarised from the window's own columns. */
  summaryOf: SummaryOf | null;
}

const CREDENTIALS = new Set(['user', 'service_account']);

/** The route an authenticated refusal was for, when the event says (`admin.denied`: method and path). */
function routeOf(record: AuditRecord): string | undefined {
  const { method, path } = (record.details ?? {}) as { method?: unknown; path?: unknown };
  return typeof method === 'string' && typeof path === 'string' ? `${method} ${path}`.slice(0, 220) : undefined;
}

/** A bounded bucket name (the primary key holds 200 characters): long ones, which callers partly choose, are hashed. */
function bounded(name: string): string {
  return name.length <= 200 ? name : `#${createHash('sha256').update(name).digest('base64url')}`;
}

/** How an event is aggregated, or null when it is recorded one by one. */
export function aggregationOf(context: AuditContext, record: AuditRecord): Aggregation | null {
  const ip = context.clientIp?.slice(0, 64) ?? '-';
  if (context.actorType === 'anonymous' && record.outcome === 'failure') {
    return { bucket: bounded(`${ip}|${record.type}|${record.reason ?? '-'}`), summaryOf: null };
  }
  if (!CREDENTIALS.has(context.actorType) || !context.actorId) return null;
  const actor = {
    actorType: context.actorType,
    actorId: context.actorId,
    clientIp: context.clientIp?.slice(0, 64) ?? null,
  };
  if (record.outcome === 'failure') {
    const route = routeOf(record);
    return {
      bucket: bounded(
        `actor:${context.actorType}:${context.actorId}|${ip}|${record.type}|${record.reason ?? '-'}|${route ?? '-'}`,
      ),
      summaryOf: {
        context: actor,
        record: {
          type: record.type,
          outcome: 'failure',
          reason: record.reason ?? null,
          subjectType: record.subjectType,
          subjectId: record.subjectId,
          details: route ? { route } : {},
        },
      },
    };
  }
  const grant = (record.details ?? {}) as { grant?: unknown; clientId?: unknown };
  if (
    record.type === 'token.issued' &&
    context.actorType === 'service_account' &&
    grant.grant === 'client_credentials'
  ) {
    return {
      bucket: bounded(`grant:${context.actorId}|${ip}`),
      summaryOf: {
        context: actor,
        record: {
          type: record.type,
          outcome: 'success',
          subjectType: record.subjectType,
          subjectId: record.subjectId,
          details: { grant: 'client_credentials', clientId: grant.clientId },
        },
      },
    };
  }
  return null;
}

export interface WindowSummary {
  context: AuditContext;
  record: AuditRecord;
}

function summaryOf(row: WindowRow): WindowSummary | null {
  const hits = Number(row.hits);
  if (hits === 0) return null;
  const counted = {
    aggregated: true,
    count: hits,
    from: new Date(Number(row.first_at)).toISOString(),
    to: new Date(Number(row.last_at)).toISOString(),
  };
  const template: SummaryOf = row.summary_of
    ? (JSON.parse(row.summary_of) as SummaryOf)
    : {
        context: { actorType: 'anonymous', clientIp: row.client_ip },
        record: { type: row.type, outcome: 'failure', reason: row.reason },
      };
  return {
    context: template.context,
    record: { ...template.record, details: { ...template.record.details, ...counted } },
  };
}

/**
 * Counts one aggregated event (see aggregationOf). Returns what must be written to the chain now: the event itself
 * when it is the first of its window (after the summary of this bucket's previous window, if that one had more), or
 * nothing.
 */
export async function countAggregated(
  tx: Tx,
  windows: AuditWindowRepository,
  aggregation: Aggregation,
  context: AuditContext,
  record: AuditRecord,
  now: number,
): Promise<WindowSummary[]> {
  const { bucket } = aggregation;
  const write: WindowSummary[] = [];
  // An ended window of this bucket is summarised before a new one starts (the periodic flush does the rest).
  for (const row of await windows.takeEnded(tx, now, bucket)) {
    const summary = summaryOf(row);
    if (summary) write.push(summary);
  }
  const hits = await windows.count(tx, {
    bucket,
    clientIp: context.clientIp?.slice(0, 64) ?? null,
    type: record.type.slice(0, 64),
    reason: record.reason?.slice(0, 64) ?? null,
    summaryOf: aggregation.summaryOf ? JSON.stringify(aggregation.summaryOf) : null,
    at: now,
    windowEndsAt: now + AGGREGATION_WINDOW_MS,
  });
  // hits 0: this request opened the window, so it is written in full.
  if (hits === 0) write.push({ context, record });
  return write;
}

/** Takes every ended window and returns the summaries to write (the windows' rows are gone with this unit). */
export async function takeEndedWindows(tx: Tx, windows: AuditWindowRepository, now: number): Promise<WindowSummary[]> {
  return (await windows.takeEnded(tx, now)).map(summaryOf).filter((s): s is WindowSummary => s !== null);
}
