import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';
// The chain's hash function itself (a file with no dependencies), so that rows chained here verify like rows the
// service chains.
import { chainHash, GENESIS_HASH } from '../../../audit/src/audit-chain';

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
export class AuditChain1765100000000 implements MigrationInterface {
  name = 'AuditChain1765100000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('audit_events', [
      new TableColumn({ name: 'seq', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'prev_hash', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'hash', type: 'varchar', length: '64', isNullable: true }),
    ]);
    await q.createIndex('audit_events', new TableIndex({ name: 'UQ_audit_events_seq', columnNames: ['seq'], isUnique: true }));
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

    const rows: Array<Record<string, string | number | null>> = await q.query(
      'SELECT id, occurred_at, type, outcome, reason, actor_type, actor_id, subject_type, subject_id, client_ip, user_agent, details FROM audit_events ORDER BY occurred_at, id',
    );
    let prevHash = GENESIS_HASH;
    let seq = 0;
    const update = q.connection.driver.options.type === 'postgres' ? 'UPDATE audit_events SET seq = $1, prev_hash = $2, hash = $3 WHERE id = $4' : 'UPDATE audit_events SET seq = ?, prev_hash = ?, hash = ? WHERE id = ?';
    for (const row of rows) {
      seq += 1;
      const hash = chainHash({
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
        details: JSON.parse(String(row.details)),
      });
      await q.query(update, [seq, prevHash, hash, row.id]);
      prevHash = hash;
    }
    await q.query(q.connection.driver.options.type === 'postgres' ? 'INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, $1, $2)' : 'INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, ?, ?)', [seq, prevHash]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('job_leases');
    await q.dropTable('audit_failure_windows');
    await q.dropTable('audit_chain_head');
    await q.dropIndex('audit_events', 'UQ_audit_events_seq');
    await q.dropColumns('audit_events', ['hash', 'prev_hash', 'seq']);
  }
}
