import { createHash } from 'node:crypto';
import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/*
 * A tamper-evident audit trail: every event gets a position (`seq`) and a hash chained to its predecessor's, and
 * `audit_chain_head` holds the position and hash of the last event. Appending an event updates the head in the
 * event's own transaction; the head's row lock is what serialises appends from several instances on PostgreSQL
 * (SQLite has one writer).
 *
 * `audit_failure_windows` bounds the trail against junk: an unauthenticated failure is recorded in full the first
 * time per address, type and reason in a window; the others in that window are only counted here, and written as
 * one summary event when the window ends (libs/audit, AuditBounds).
 *
 * `job_leases` lets scheduled jobs run once per interval across instances.
 *
 * Rows written before this migration are chained here, oldest first, as they are now: the chain vouches for them
 * from this moment on.
 */
/** The `prevHash` of the first event ever written. */
const GENESIS_HASH = '0'.repeat(64);

/*
 * A frozen copy of the chain's hash, version 1 (libs/audit/src/audit-chain.ts, `chainHash`, and canonical-json.ts),
 * as it was when this migration was written. A migration runs once, on history: importing the live function would
 * let a later change to it silently re-chain old rows differently from what the service wrote then. The unit test
 * beside this file checks that the copy still equals the live function, so a change to the live one is noticed
 * (it must then bump `v` and keep verifying version 1 rows), and this copy is never edited.
 */
function canonicalJsonV1(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJsonV1).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJsonV1(v)}`).join(',')}}`;
}

/** The fields a version 1 hash covers (libs/audit's `ChainLink` when this migration was written). */
export interface ChainLinkV1 {
  seq: number;
  prevHash: string;
  id: string;
  occurredAt: number;
  type: string;
  outcome: string;
  reason: string | null;
  actorType: string;
  actorId: string | null;
  subjectType: string | null;
  subjectId: string | null;
  clientIp: string | null;
  userAgent: string | null;
  details: unknown;
}

/** Exported for its unit test only. */
export function chainHashV1(link: ChainLinkV1): string {
  const fields = {
    v: 1,
    seq: link.seq,
    prevHash: link.prevHash,
    id: link.id,
    occurredAt: link.occurredAt,
    type: link.type,
    outcome: link.outcome,
    reason: link.reason,
    actorType: link.actorType,
    actorId: link.actorId,
    subjectType: link.subjectType,
    subjectId: link.subjectId,
    clientIp: link.clientIp,
    userAgent: link.userAgent,
    details: link.details,
  };
  return createHash('sha256').update(canonicalJsonV1(fields)).digest('hex');
}

export class AuditChain1765100000000 implements MigrationInterface {
  name = 'AuditChain1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('audit_events', [
      new TableColumn({ name: 'seq', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'prev_hash', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'hash', type: 'varchar', length: '64', isNullable: true }),
    ]);
    await q.createIndex(
      'audit_events',
      new TableIndex({ name: 'UQ_audit_events_seq', columnNames: ['seq'], isUnique: true }),
    );
    await q.createTable(
      new Table({
        name: 'audit_chain_head',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'seq', type: 'bigint' },
          { name: 'hash', type: 'varchar', length: '64' },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'audit_failure_windows',
        columns: [
          { name: 'bucket', type: 'varchar', length: '200', isPrimary: true },
          { name: 'client_ip', type: 'varchar', length: '64', isNullable: true },
          { name: 'type', type: 'varchar', length: '64' },
          { name: 'reason', type: 'varchar', length: '64', isNullable: true },
          { name: 'window_ends_at', type: 'bigint' },
          { name: 'first_at', type: 'bigint' },
          { name: 'last_at', type: 'bigint' },
          { name: 'hits', type: 'integer' },
        ],
        indices: [{ name: 'IDX_audit_failure_windows_ends', columnNames: ['window_ends_at'] }],
      }),
    );

    // Scheduled jobs run once per interval across instances (libs/persistence, JobLeases).
    await q.createTable(
      new Table({
        name: 'job_leases',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'holder', type: 'varchar', length: '64' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'runs', type: 'integer' },
        ],
      }),
    );

    const rows = (await q.query(
      'SELECT id, occurred_at, type, outcome, reason, actor_type, actor_id, subject_type, subject_id, client_ip, user_agent, details FROM audit_events ORDER BY occurred_at, id',
    )) as Array<Record<string, string | number | null>>;
    let prevHash = GENESIS_HASH;
    let seq = 0;
    const update =
      q.connection.driver.options.type === 'postgres'
        ? 'UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4'
        : 'UPDATE audit_events SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?';
    for (const row of rows) {
      seq += 1;
      const hash = chainHashV1({
        seq,
        prevHash,
        id: String(row.id),
        occurredAt: Number(row.occurred_at),
        type: String(row.type),
        outcome: String(row.outcome),
        reason: row.reason as string | null,
        actorType: String(row.actor_type),
        actorId: row.actor_id as string | null,
        subjectType: row.subject_type as string | null,
        subjectId: row.subject_id as string | null,
        clientIp: row.client_ip as string | null,
        userAgent: row.user_agent as string | null,
        details: JSON.parse(String(row.details)) as unknown,
      });
      await q.query(update, [seq, prevHash, hash, row.id]);
      prevHash = hash;
    }
    await q.query(
      q.connection.driver.options.type === 'postgres'
        ? 'INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, $1, $2)'
        : 'INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, ?, ?)',
      [seq, prevHash],
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('job_leases');
    await q.dropTable('audit_failure_windows');
    await q.dropTable('audit_chain_head');
    await q.dropIndex('audit_events', 'UQ_audit_events_seq');
    await q.dropColumns('audit_events', ['hash', 'prev_hash', 'seq']);
  }
}
