import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { AuditEvent } from './audit-event.entity';
import { AuditContext, AuditRecord } from './audit.types';

const INSERT =
  'INSERT INTO audit_events (id, occurred_at, type, outcome, reason, actor_type, actor_id, subject_type, subject_id, client_ip, user_agent, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
const COLUMNS: (keyof AuditEvent & string)[] = ['id', 'occurredAt', 'type', 'outcome', 'reason', 'actorType', 'actorId', 'subjectType', 'subjectId', 'clientIp', 'userAgent', 'details'];

/** The audit trail's writer: appends one event inside the caller's unit of work (so it commits with its change). */
@Injectable()
export class AuditEventRepository {
  async append(tx: Tx, context: AuditContext, record: AuditRecord, occurredAt = new Date()): Promise<void> {
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
      details: record.details ?? {},
    };
    await tx.query(INSERT, tx.rows(AuditEvent).params(event, COLUMNS));
  }
}
