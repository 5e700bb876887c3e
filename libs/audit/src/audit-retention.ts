import { Tx } from '@app/persistence';
import { AuditEventRepository } from './audit-event.repository';

const DAY_MS = 24 * 3600 * 1000;

export interface PruneResult {
  throughSeq: number;
  throughHash: string;
  deleted: number;
  before: string;
  retentionDays: number;
}

/** The instant before which events are past the retention period. */
export function retentionCutoff(retentionDays: number, now: number): number {
  return now - retentionDays * DAY_MS;
}

/**
 * Deletes the chain's prefix older than the retention period: every event up to the first one still within it (an
 * older event after a newer one stays until everything before it can go, so the rest stays one unbroken chain).
 * Returns the checkpoint to record (the last deleted event's position and hash), or null when nothing is due.
 */
export async function prunePrefix(
  tx: Tx,
  events: AuditEventRepository,
  retentionDays: number,
  now: number,
): Promise<PruneResult | null> {
  const head = await events.lockHead(tx);
  const cutoff = retentionCutoff(retentionDays, now);
  const firstKept = await events.firstChainedFrom(tx, cutoff);
  const throughSeq = (firstKept === null ? head + 1 : firstKept) - 1;
  const first = await events.firstChained(tx);
  if (first === null || throughSeq < first) return null;
  const throughHash = await events.hashAt(tx, throughSeq);
  if (!throughHash) throw new Error(`the audit event at position ${throughSeq} is missing: run "audit verify"`);
  const deleted = await events.deleteThrough(tx, throughSeq);
  return { throughSeq, throughHash, deleted, before: new Date(cutoff).toISOString(), retentionDays };
}
