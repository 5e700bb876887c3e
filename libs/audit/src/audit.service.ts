import { Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { AuditEvent } from './audit-event.entity';
import { AuditEventRepository } from './audit-event.repository';
import { AuditWindowRepository } from './audit-window.repository';
import { AuditContext, AuditQuery, AuditRecord, SYSTEM_CONTEXT } from './audit.types';
import { PRUNED_EVENT } from './audit-chain';
import { CheckpointKeys, SIGNATURE_FIELD } from './audit-checkpoint';
import { prunePrefix, PruneResult, retentionCutoff } from './audit-retention';
import { aggregationOf, countAggregated, takeEndedWindows } from './audit-bounds';

const MAX_PAGE = 500;

@Injectable()
export class AuditService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly events: AuditEventRepository,
    private readonly windows: AuditWindowRepository,
  ) {}

  /**
   * Records one event in the caller's unit of work: pass `tx` when the event belongs to a state change, so that the
   * change and its record commit or roll back together. Without it, the event is a unit of its own (or joins the
   * unit the caller is running in).
   */
  async record(context: AuditContext, record: AuditRecord, tx?: Tx): Promise<void> {
    const aggregation = aggregationOf(context, record);
    const write = async (unit: Tx) => {
      if (!aggregation) return this.events.append(unit, context, record);
      const events = await countAggregated(unit, this.windows, aggregation, context, record, Date.now());
      for (const event of events) await this.events.append(unit, event.context, event.record);
    };
    if (tx) await write(tx);
    else await this.uow.run(write);
  }

  /**
   * Prunes events older than the retention period and records what it pruned (an `audit.pruned` event whose
   * details are the checkpoint the remaining chain verifies from, signed by the active signing key: see
   * audit-checkpoint.ts), in one unit: either both or neither.
   */
  async prune(retentionDays: number, keys: CheckpointKeys, now = Date.now()): Promise<PruneResult | null> {
    // Without an event older than the retention period nothing can be due (prunePrefix would return null), so no
    // signing key is fetched for the checkpoint: a new service has none until its key store has started.
    const cutoff = retentionCutoff(retentionDays, now);
    if (!(await this.uow.run((tx) => this.events.anyChainedBefore(tx, cutoff)))) return null;
    // Fetched before the unit starts (a key read must not run inside it on SQLite's one connection); signing is synchronous.
    const sign = await keys.checkpointSigner();
    return this.uow.run(async (tx) => {
      const pruned = await prunePrefix(tx, this.events, retentionDays, now);
      if (pruned)
        await this.events.append(tx, SYSTEM_CONTEXT, {
          type: PRUNED_EVENT,
          outcome: 'success',
          details: { ...pruned, [SIGNATURE_FIELD]: sign({ ...pruned }) },
        });
      return pruned;
    });
  }

  /** Writes the summaries of the failure windows that have ended (see audit-bounds.ts); returns how many. */
  async flushEndedWindows(now = Date.now()): Promise<number> {
    return this.uow.run(async (tx) => {
      const summaries = await takeEndedWindows(tx, this.windows, now);
      for (const event of summaries) await this.events.append(tx, event.context, event.record);
      return summaries.length;
    });
  }

  /** Newest first (chain order, reversed), keyset-paginated on the chain position, so pages stay stable while events keep arriving. */
  async search(query: AuditQuery): Promise<{ items: AuditEvent[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(query.limit ?? 100, 1), MAX_PAGE);
    const before = query.cursor ? decodeCursor(query.cursor) : undefined;
    const rows = await this.uow.run((tx) => this.events.newestFirst(tx, query, before, limit + 1));
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > limit && last ? encodeCursor(last) : null };
  }

  /**
   * Streams every matching event in chain order (oldest first; an unfiltered export is the whole chain, which an
   * auditor can verify offline), one page in memory at a time: keyset pagination on the chain position, so the
   * service's memory does not grow with the size of the trail.
   */
  async *export(query: Omit<AuditQuery, 'cursor' | 'limit'>): AsyncGenerator<AuditEvent> {
    let after = 0;
    for (;;) {
      const from = after;
      const page = await this.uow.run((tx) => this.events.oldestFirst(tx, query, from, MAX_PAGE));
      for (const event of page) yield event;
      const last = page[page.length - 1];
      if (page.length < MAX_PAGE || !last) return;
      after = last.seq!;
    }
  }
}

function encodeCursor(event: AuditEvent): string {
  return Buffer.from(`seq:${event.seq}`).toString('base64url');
}

function decodeCursor(cursor: string): number {
  const match = /^seq:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString());
  if (!match) throw new AppError(ErrorCode.InvalidRequest, 'cursor is not one this service issued');
  return Number(match[1]);
}
