import { Tx } from '@app/persistence';

const DAY_MS = 24 * 3600 * 1000;

/** Locks the chain head for the rest of the unit (PostgreSQL): nobody appends while the prefix is cut. */
const LOCK_HEAD = 'UPDATE audit_chain_head SET seq = seq WHERE id = 1 RETURNING seq';
const FIRST_KEPT = 'SELECT MIN(seq) AS seq FROM audit_events WHERE occurred_at >= ? AND seq IS NOT NULL';
const FIRST = 'SELECT MIN(seq) AS seq FROM audit_events WHERE seq IS NOT NULL';
const HASH_AT = 'SELECT hash FROM audit_events WHERE seq = ?';
const DELETE_THROUGH = 'DELETE FROM audit_events WHERE seq <= ?';
const ANY_OLDER = 'SELECT seq FROM audit_events WHERE occurred_at < ? AND seq IS NOT NULL LIMIT 1';

export interface PruneResult {
  throughSeq: number;
  throughHash: string;
  deleted: number;
  before: string;
  retentionDays: number;
}

/**
 * Whether any chained event is older than the retention period: without one nothing can be due (prunePrefix would
 * return null), so the caller need not fetch a signing key for the checkpoint — a new service has none until its
 * key store has started.
 */
export async function anythingOlderThanRetention(tx: Tx, retentionDays: number, now: number): Promise<boolean> {
  return (await tx.query(ANY_OLDER, [now - retentionDays * DAY_MS])).rows.length > 0;
}

/**
 * Deletes the chain's prefix older than the retention period: every event up to the first one still within it (an
 * older event after a newer one stays until everything before it can go, so the rest stays one unbroken chain).
 * Returns the checkpoint to record (the last deleted event's position and hash), or null when nothing is due.
 */
export async function prunePrefix(tx: Tx, retentionDays: number, now: number): Promise<PruneResult | null> {
  const head = (await tx.query<{ seq: string | number }>(LOCK_HEAD)).rows[0];
  if (!head) throw new Error('the audit chain head is missing: the audit_chain_head row was deleted');
  const cutoff = now - retentionDays * DAY_MS;
  const firstKept = (await tx.query<{ seq: string | number | null }>(FIRST_KEPT, [cutoff])).rows[0]?.seq;
  const throughSeq = (firstKept == null ? Number(head.seq) + 1 : Number(firstKept)) - 1;
  const first = (await tx.query<{ seq: string | number | null }>(FIRST)).rows[0]?.seq;
  if (first == null || throughSeq < Number(first)) return null;
  const throughHash = (await tx.query<{ hash: string }>(HASH_AT, [throughSeq])).rows[0]?.hash;
  if (!throughHash) throw new Error(`the audit event at position ${throughSeq} is missing: run "audit verify"`);
  const deleted = await tx.query(DELETE_THROUGH, [throughSeq]);
  return { throughSeq, throughHash, deleted: deleted.affected, before: new Date(cutoff).toISOString(), retentionDays };
}
