import { Get, Query, Res } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { Response } from 'express';
import {
  AuditChainService,
  AuditContext,
  AuditEvent,
  AuditQuery,
  AuditService,
  CheckpointKeys,
  parseHeadText,
} from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Audit } from '../http/audit-context.decorator';
import { AdminController } from './admin-controller.decorator';
import { AuditFilterQuery, AuditPageQuery, AuditVerifyQuery, AuditVerifyResult, SignedAuditHead } from './admin.dto';
import { AuditNames } from './audit-names';

/** Events buffered per name lookup while exporting (one page of the export's own keyset walk). */
const EXPORT_BATCH = 500;

@AdminController('audit')
export class AdminAuditController {
  constructor(
    private readonly audit: AuditService,
    private readonly chain: AuditChainService,
    private readonly names: AuditNames,
    private readonly keys: CheckpointKeys,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Audit events, newest first, one page at a time (pass nextCursor back as cursor); each with actorName and subjectName',
  })
  async query(@Query() query: AuditPageQuery, @Audit() context: AuditContext) {
    const page = await this.audit.search({ ...(await this.filter(query)), limit: query.limit, cursor: query.cursor });
    const book = this.names.book();
    await book.learn(page.items);
    // Who read the trail is part of the trail (after the read, so a page never contains its own record).
    await this.audit.record(context, {
      type: 'audit.read',
      outcome: 'success',
      details: { events: page.items.length, filter: { ...query } },
    });
    return { items: page.items.map((event) => book.view(event)), nextCursor: page.nextCursor };
  }

  @Get('export')
  @ApiProduces('application/x-ndjson')
  @ApiOperation({
    summary:
      'Every matching event as JSON lines, oldest first (for a SIEM or an archive); each with actorName and subjectName',
  })
  async export(@Query() query: AuditFilterQuery, @Audit() context: AuditContext, @Res() res: Response): Promise<void> {
    const filter = await this.filter(query);
    res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
    const book = this.names.book();
    let count = 0;
    const write = async (events: AuditEvent[]) => {
      await book.learn(events);
      for (const event of events) res.write(`${JSON.stringify(book.view(event))}\n`);
      count += events.length;
    };
    try {
      let batch: AuditEvent[] = [];
      for await (const event of this.audit.export(filter)) {
        batch.push(event);
        if (batch.length === EXPORT_BATCH) {
          await write(batch);
          batch = [];
        }
      }
      await write(batch);
      // Reading the whole trail is itself worth a record: written after the last line is read, so an export never
      // contains its own event, and before the response ends, so a client that has the export finds the record.
      // If it cannot be written the export is cut rather than left unaudited.
      await this.audit.record(context, {
        type: 'audit.exported',
        outcome: 'success',
        details: { events: count, filter: { ...query } },
      });
    } catch (error) {
      // Before the first line the error filter can still answer with JSON; after it, only a cut connection
      // tells the client the export is incomplete.
      if (!res.headersSent) throw error;
      res.destroy(error as Error);
      return;
    }
    res.end();
  }

  @Get('head')
  @ApiOkResponse({ type: SignedAuditHead })
  @ApiOperation({
    summary:
      'The chain head (position, hash, time) signed by the active signing key: keep it outside the database and pass it to verify later',
  })
  head(): Promise<SignedAuditHead> {
    return this.chain.signedHead(this.keys);
  }

  @Get('verify')
  @ApiOkResponse({ type: AuditVerifyResult })
  @ApiOperation({
    summary:
      "Check the stored trail against its hash chain and the service's chain head; broken names the first bad event. With head (a signed head kept outside), also that the trail still contains it: 400 when the head's signature is not the service's",
  })
  async verify(@Query() query: AuditVerifyQuery, @Audit() context: AuditContext): Promise<AuditVerifyResult> {
    const verdict = await this.chain.verify(
      this.keys,
      query.head === undefined ? undefined : parseHeadText(query.head),
    );
    // Checked before this record is appended, so the verdict is about the trail as the caller asked for it.
    await this.audit.record(context, {
      type: 'audit.verified',
      outcome: verdict.ok ? 'success' : 'failure',
      reason: verdict.ok ? null : 'chain_broken',
      details: verdict.ok
        ? { events: verdict.events, ...(verdict.anchor ? { headSeq: verdict.anchor.seq } : {}) }
        : { events: verdict.events, brokenSeq: verdict.broken.seq },
    });
    return verdict.ok
      ? {
          ok: true,
          events: verdict.events,
          broken: null,
          last: verdict.last,
          ...(verdict.anchor ? { anchor: verdict.anchor } : {}),
        }
      : { ok: false, events: verdict.events, broken: verdict.broken, last: null };
  }

  /** The validated query string as the service's filter; refuses a window that ends before it starts. */
  private async filter(query: AuditFilterQuery): Promise<Omit<AuditQuery, 'limit' | 'cursor'>> {
    const since = query.since ? new Date(query.since) : undefined;
    const until = query.until ? new Date(query.until) : undefined;
    if (since && until && since.getTime() > until.getTime())
      throw new AppError(ErrorCode.InvalidRequest, 'since must not be after until');
    return {
      type: query.type,
      outcome: query.outcome,
      actorIds: query.actor ? await this.names.idsFor(query.actor) : undefined,
      subjectIds: query.subject ? await this.names.idsFor(query.subject) : undefined,
      since,
      until,
    };
  }
}
