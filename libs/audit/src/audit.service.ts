import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';
import { AppError, ErrorCode } from '@app/errors';
import { AuditEvent } from './audit-event.entity';
import { AuditContext, AuditQuery, AuditRecord } from './audit.types';

const MAX_PAGE = 500;

@Injectable()
export class AuditService {
  constructor(@InjectRepository(AuditEvent) private readonly events: Repository<AuditEvent>) {}

  /**
   * Records one event. Pass the transaction's manager when the event belongs to a state change, so that the change
   * and its audit record commit or roll back together.
   */
  async record(context: AuditContext, record: AuditRecord, manager?: EntityManager): Promise<void> {
    const event = this.events.create({
      id: randomUUID(),
      occurredAt: new Date(),
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
    });
    await (manager ? manager.getRepository(AuditEvent) : this.events).insert(event as QueryDeepPartialEntity<AuditEvent>);
  }

  /** Newest first, keyset-paginated on (occurredAt, id) so pages stay stable while events keep arriving. */
  async query(query: AuditQuery): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), MAX_PAGE);
    const qb = this.events.createQueryBuilder('e');
    if (query.type) qb.andWhere('e.type = :type', { type: query.type });
    if (query.outcome) qb.andWhere('e.outcome = :outcome', { outcome: query.outcome });
    if (query.actorId) qb.andWhere('e.actor_id = :actorId', { actorId: query.actorId });
    if (query.subjectId) qb.andWhere('e.subject_id = :subjectId', { subjectId: query.subjectId });
    if (query.since) qb.andWhere('e.occurred_at >= :since', { since: query.since.getTime() });
    if (query.until) qb.andWhere('e.occurred_at < :until', { until: query.until.getTime() });
    if (query.cursor) {
      const [at, id] = decodeCursor(query.cursor);
      qb.andWhere('(e.occurred_at < :at OR (e.occurred_at = :at AND e.id < :id))', { at, id });
    }
    const rows = await qb.orderBy('e.occurred_at', 'DESC').addOrderBy('e.id', 'DESC').take(limit + 1).getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /** Streams every matching event oldest-first in pages, for JSON-lines export. */
  async *export(query: Omit<AuditQuery, 'cursor' | 'limit'>): AsyncGenerator<AuditEvent> {
    let cursor: string | undefined;
    const pages: AuditEvent[][] = [];
    // Collect newest-first pages, then emit oldest-first: exports read like a log.
    for (;;) {
      const page = await this.query({ ...query, cursor, limit: MAX_PAGE });
      pages.push(page.items);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    for (const page of pages.reverse()) {
      for (const event of [...page].reverse()) yield event;
    }
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
