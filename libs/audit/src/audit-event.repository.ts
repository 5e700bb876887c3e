import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { SelectQueryBuilder } from 'typeorm';
import { Tx } from '@app/persistence';
import { AuditEvent } from './audit-event.entity';
import { chainHash, storedDetails } from './audit-chain';
import { AuditContext, AuditQuery, AuditRecord } from './audit.types';

/** What an admin's audit search filters on (the paging is the repository's). */
export type AuditFilter = Omit<AuditQuery, 'cursor' | 'limit'>;

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
const HEAD = 'SELECT seq, hash FROM audit_chain_head WHERE id = 1';
const HEAD_WITH_TIME =
  'SELECT h.seq, h.hash, e.occurred_at FROM audit_chain_head h LEFT JOIN audit_events e ON e.seq = h.seq WHERE h.id = 1';
/** Locks the chain head for the rest of the unit (PostgreSQL): nobody appends while a prefix is cut. */
const LOCK_HEAD = 'UPDATE audit_chain_head SET seq = seq WHERE id = 1 RETURNING seq';
const FIRST_CHAINED_FROM = 'SELECT MIN(seq) AS seq FROM audit_events WHERE occurred_at >= ? AND seq IS NOT NULL';
const FIRST_CHAINED = 'SELECT MIN(seq) AS seq FROM audit_events WHERE seq IS NOT NULL';
const HASH_AT = 'SELECT hash FROM audit_events WHERE seq = ?';
const DELETE_THROUGH = 'DELETE FROM audit_events WHERE seq <= ?';
const ANY_CHAINED_BEFORE = 'SELECT seq FROM audit_events WHERE occurred_at < ? AND seq IS NOT NULL LIMIT 1';
const HEAD_MISSING = 'the audit chain head is missing: the audit_chain_head row was deleted';

/**
 * The audit trail's queries: appends one event inside the caller's unit of work (so it commits with its change),
 * reads the chain for verification and pages of events for admins.
 */
@Injectable()
export class AuditEventRepository {
  /**
   * An event's time is always the moment it takes its place in the chain (after the head is advanced, which
   * serialises appends), never a time its caller took earlier: with concurrent units of work an earlier time could
   * land after a later one, and chain order would stop being time order. Aggregated summaries carry their window's
   * first and last times in their details.
   */
  async append(tx: Tx, context: AuditContext, record: AuditRecord): Promise<void> {
    const head = await tx.query<{ seq: string | number; hash: string }>(ADVANCE_HEAD);
    const row = head.rows[0];
    if (!row) throw new Error(HEAD_MISSING);
    const occurredAt = new Date();
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

  /** The position and hash of the last event appended. */
  async head(tx: Tx): Promise<{ seq: number; hash: string }> {
    const row = (await tx.query<{ seq: string | number; hash: string }>(HEAD)).rows[0];
    if (!row) throw new Error(HEAD_MISSING);
    return { seq: Number(row.seq), hash: row.hash };
  }

  /** The head with the time of the event it stands on (null for an empty chain). */
  async headWithTime(tx: Tx): Promise<{ head: { seq: number; hash: string }; occurredAt: Date | null }> {
    type Row = { seq: string | number; hash: string; occurred_at: string | number | null };
    const row = (await tx.query<Row>(HEAD_WITH_TIME)).rows[0];
    if (!row) throw new Error(HEAD_MISSING);
    return {
      head: { seq: Number(row.seq), hash: row.hash },
      occurredAt: row.occurred_at == null ? null : new Date(Number(row.occurred_at)),
    };
  }

  /** The head's position, locked until the unit ends (appends wait): the first step of cutting a prefix. */
  async lockHead(tx: Tx): Promise<number> {
    const row = (await tx.query<{ seq: string | number }>(LOCK_HEAD)).rows[0];
    if (!row) throw new Error(HEAD_MISSING);
    return Number(row.seq);
  }

  /** Whether any chained event occurred before `cutoff` (epoch ms). */
  async anyChainedBefore(tx: Tx, cutoff: number): Promise<boolean> {
    return (await tx.query(ANY_CHAINED_BEFORE, [cutoff])).rows.length > 0;
  }

  /** The first chain position whose event occurred at or after `cutoff` (epoch ms), or null. */
  async firstChainedFrom(tx: Tx, cutoff: number): Promise<number | null> {
    const seq = (await tx.query<{ seq: string | number | null }>(FIRST_CHAINED_FROM, [cutoff])).rows[0]?.seq;
    return seq == null ? null : Number(seq);
  }

  /** The first chain position still stored, or null for an empty chain. */
  async firstChained(tx: Tx): Promise<number | null> {
    const seq = (await tx.query<{ seq: string | number | null }>(FIRST_CHAINED)).rows[0]?.seq;
    return seq == null ? null : Number(seq);
  }

  /** The hash of the event at position `seq`, or null when there is none. */
  async hashAt(tx: Tx, seq: number): Promise<string | null> {
    return (await tx.query<{ hash: string }>(HASH_AT, [seq])).rows[0]?.hash ?? null;
  }

  /** Deletes the events up to and including position `seq`; returns how many. */
  async deleteThrough(tx: Tx, seq: number): Promise<number> {
    return (await tx.query(DELETE_THROUGH, [seq])).affected;
  }

  /** The oldest row without a chain position (never appended by the service), if any. */
  firstUnchained(tx: Tx): Promise<AuditEvent | null> {
    return this.events(tx)
      .where('e.seq IS NULL OR e.hash IS NULL OR e.prev_hash IS NULL')
      .orderBy('e.occurred_at', 'ASC')
      .addOrderBy('e.id', 'ASC')
      .getOne();
  }

  /** Chain positions in (after, to], in order, at most `limit`. */
  chainPage(tx: Tx, after: number, to: number, limit: number): Promise<AuditEvent[]> {
    return this.events(tx)
      .where('e.seq > :after AND e.seq <= :to', { after, to })
      .orderBy('e.seq', 'ASC')
      .take(limit)
      .getMany();
  }

  /** The first event past position `seq`, if any. */
  firstAfter(tx: Tx, seq: number): Promise<AuditEvent | null> {
    return this.events(tx).where('e.seq > :seq', { seq }).orderBy('e.seq', 'ASC').getOne();
  }

  atSeq(tx: Tx, seq: number): Promise<AuditEvent | null> {
    return this.events(tx).where('e.seq = :seq', { seq }).getOne();
  }

  /** Matching events newest first, before position `before` when given, at most `limit`. */
  newestFirst(tx: Tx, filter: AuditFilter, before: number | undefined, limit: number): Promise<AuditEvent[]> {
    const qb = this.filtered(tx, filter);
    if (before !== undefined) qb.andWhere('e.seq < :before', { before });
    return qb.orderBy('e.seq', 'DESC').take(limit).getMany();
  }

  /** Matching events in chain order after position `after`, at most `limit`. */
  oldestFirst(tx: Tx, filter: AuditFilter, after: number, limit: number): Promise<AuditEvent[]> {
    return this.filtered(tx, filter)
      .andWhere('e.seq > :from', { from: after })
      .orderBy('e.seq', 'ASC')
      .take(limit)
      .getMany();
  }

  private filtered(tx: Tx, query: AuditFilter): SelectQueryBuilder<AuditEvent> {
    const qb = this.events(tx);
    if (query.type) qb.andWhere('e.type = :type', { type: query.type });
    if (query.outcome) qb.andWhere('e.outcome = :outcome', { outcome: query.outcome });
    if (query.actorIds) qb.andWhere('e.actor_id IN (:...actorIds)', { actorIds: query.actorIds });
    if (query.subjectIds) qb.andWhere('e.subject_id IN (:...subjectIds)', { subjectIds: query.subjectIds });
    if (query.since) qb.andWhere('e.occurred_at >= :since', { since: query.since.getTime() });
    if (query.until) qb.andWhere('e.occurred_at < :until', { until: query.until.getTime() });
    return qb;
  }

  private events(tx: Tx): SelectQueryBuilder<AuditEvent> {
    return tx.manager.getRepository(AuditEvent).createQueryBuilder('e');
  }
}
