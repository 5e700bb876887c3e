import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AppError, ErrorCode } from '@app/errors';
import { PortableSql, SqlStatement } from '@app/persistence';
import { AuditEvent } from './audit-event.entity';
import { AuditContext, AuditQuery, AuditRecord } from './audit.types';

const MAX_PAGE = 500;

const INSERT_EVENT =
  'INSERT INTO audit_events (id, occurred_at, type, outcome, reason, actor_type, actor_id, subject_type, subject_id, client_ip, user_agent, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /**
   * Records one event. Pass the transaction's manager when the event belongs to a state change, so that the change
   * and its audit record commit or roll back together.
   */
  async record(context: AuditContext, record: AuditRecord, manager?: EntityManager): Promise<void> {
    const statement = this.insertStatement(context, record);
    const sql = PortableSql.of(this.events.manager.connection);
    if (manager) await sql.query(statement.sql, statement.params, manager);
    else await sql.transaction([statement]);
  }

  /**
   * The INSERT for one event, for callers that commit it in one PortableSql transaction with the state change it
   * records (see AuthenticationService).
   */
  insertStatement(context: AuditContext, record: AuditRecord, occurredAt = new Date()): SqlStatement {
    return {
      sql: INSERT_EVENT,
      params: [
        randomUUID(),
        occurredAt.getTime(),
        record.type,
        record.outcome,
        record.reason ?? null,
        context.actorType,
        context.actorId ?? null,
        record.subjectType ?? null,
        record.subjectId ?? null,
        context.clientIp?.slice(0, 64) ?? null,
        context.userAgent?.slice(0, 512) ?? null,
        JSON.stringify(record.details ?? {}),
      ],
    };
  }

  /** Newest first, keyset-paginated on (occurredAt, id) so pages stay stable while events keep arriving. */
  async query(query: AuditQuery): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), MAX_PAGE);
    const qb = this.filtered(query);
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor);
      qb.andWhere('(e.occurred_at < :at OR (e.occurred_at = :at AND e.id < :id))', { at, id });
    }
    const rows = await qb.orderBy('e.occurred_at', 'DESC').addOrderBy('e.id', 'DESC').take(limit + 1).getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /**
   * Streams every matching event oldest-first (exports read like a log), one page in memory at a time: keyset
   * pagination forward on (occurredAt, id), so the service's memory does not grow with the size of the trail.
   */
  async *export(query: Omit<AuditQuery, 'cursor' | 'limit'>): AsyncGenerator<AuditEvent> {
    let after: { at: number; id: string } | undefined;
    for (;;) {
      const qb = this.filtered(query);
      if (after) qb.andWhere('(e.occurred_at > :afterAt OR (e.occurred_at = :afterAt AND e.id > :afterId))', { afterAt: after.at, afterId: after.id });
      const page = await qb.orderBy('e.occurred_at', 'ASC').addOrderBy('e.id', 'ASC').take(MAX_PAGE).getMany();
      for (const event of page) yield event;
      const last = page[page.length - 1];
      if (page.length < MAX_PAGE || !last) return;
      after = { at: last.occurredAt.getTime(), id: last.id };
    }
  }

  private filtered(query: Omit<AuditQuery, 'cursor' | 'limit'>) {
    const qb = this.events.createQueryBuilder('e');
    if (query.type) qb.andWhere('e.type = :type', { type: query.type });
    if (query.outcome) qb.andWhere('e.outcome = :outcome', { outcome: query.outcome });
    if (query.actorId) qb.andWhere('e.actor_id = :actorId', { actorId: query.actorId });
    if (query.subjectId) qb.andWhere('e.subject_id = :subjectId', { subjectId: query.subjectId });
    if (query.since) qb.andWhere('e.occurred_at >= :since', { since: query.since.getTime() });
    if (query.until) qb.andWhere('e.occurred_at < :until', { until: query.until.getTime() });
    return qb;
  }
}

function encodeCursor(event: AuditEvent): string {
  return Buffer.from(`${event.occurredAt.getTime()}|${event.id}`).toString('base64url');
}

function decodeCursor(cursor: string): [number, string] {
  const [at, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const when = Number(at);
  if (!Number.isFinite(when) || !id) throw new AppError(ErrorCode.InvalidRequest, 'cursor is not one this service issued');
  return [when, id];
}
