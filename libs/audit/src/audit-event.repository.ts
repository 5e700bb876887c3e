import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { AuditEvent } from './audit-event.entity';
import { chainHash, storedDetails } from './audit-chain';
import { AuditContext, AuditRecord } from './audit.types';

const INSERT =
  'INSERT INTO audit_events (id, occurred_at, type, outcome, reason, actor_type, actor_id, subject_type, subject_id, client_ip, user_agent, details, seq, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const COLUMNS: (keyof AuditEvent)[] = [
  'id',
  'occurredAt',
  'type',
  'outcome',
  'reason',
  'actorType',
  'actorId',
  'subjectType',
  'subjectId',
  'clientIp',
  'userAgent',
  'details',
  'seq',
  'prevHash',
  'hash',
];
/*
 * Takes the next position and the previous hash in one statement. On PostgreSQL the UPDATE locks the head row until
 * the transaction ends, so appends from every instance take turns and positions stay gap-free (a rollback returns
 * its position with everything else). Keep audited units short: the lock is held until they commit.
 */
const ADVANCE_HEAD = 'UPDATE audit_chain_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash';
const SET_HEAD_HASH = 'UPDATE audit_chain_head SET hash = ? WHERE id = 1';

/** The audit trail's writer: appends one event inside the caller's unit of work (so it commits with its change). */
@Injectable()
export class AuditEventRepository {
  /** `at` defaults to the moment the event takes its place, so that chain order is time order. */
  async append(tx: Tx, context: AuditContext, record: AuditRecord, at?: Date): Promise<void> {
    const head = await tx.query<{ seq: string | number; hash: string }>(ADVANCE_HEAD);
    const row = head.rows[0];
    if (!row) throw new Error('the audit chain head is missing: the audit_chain_head row was deleted');
    const occurredAt = at ?? new Date();
    const event: AuditEvent = {
      id: randomUUID(),
      occurredAt,
      type: record.type,
      outcome: record.outcome,
      reason: record.reason ?? null,
      actorType: context.actorType,
      actorId: context.actorId ?? null,
      subjectType: record.subjectType ?? null,
      subjectId: record.subjectId ?? null,
      clientIp: context.clientIp?.slice(0, 64) ?? null,
      userAgent: context.userAgent?.slice(0, 512) ?? null,
      details: storedDetails(record.details),
      seq: Number(row.seq),
      prevHash: row.hash,
      hash: null,
    };
    event.hash = chainHash({ ...event, occurredAt: occurredAt.getTime(), seq: event.seq!, prevHash: row.hash });
    await tx.query(INSERT, tx.rows(AuditEvent).params(event, COLUMNS));
    await tx.query(SET_HEAD_HASH, [event.hash]);
  }
}
