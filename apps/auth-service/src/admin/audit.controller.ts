import { Get, Query, Res } from '@nestjs/common';
import { ApiOperation, ApiProduces } from '@nestjs/swagger';
import type { Response } from 'express';
import { AuditContext, AuditQuery, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Audit } from '../http/audit-context.decorator';
import { AdminController } from './admin-controller.decorator';
import { AuditFilterQuery, AuditPageQuery } from './admin.dto';
import { auditEventView } from './views';

/** The validated query string as the service's filter; refuses a window that ends before it starts. */
export function auditFilter(query: AuditFilterQuery): Omit<AuditQuery, 'limit' | 'cursor'> {
  const since = query.since ? new Date(query.since) : undefined;
  const until = query.until ? new Date(query.until) : undefined;
  if (since && until && since.getTime() > until.getTime()) throw new AppError(ErrorCode.InvalidRequest, 'since must not be after until');
  return { type: query.type, outcome: query.outcome, actorId: query.actor, subjectId: query.subject, since, until };
}

@AdminController('audit')
export class AdminAuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Audit events, newest first, one page at a time (pass nextCursor back as cursor)' })
  async query(@Query() query: AuditPageQuery, @Audit() context: AuditContext) {
    const page = await this.audit.query({ ...auditFilter(query), limit: query.limit, cursor: query.cursor });
    // Who read the trail is part of the trail (after the read, so a page never contains its own record).
    await this.audit.record(context, { type: 'audit.read', outcome: 'success', details: { events: page.items.length, filter: { ...query } } });
    return { items: page.items.map(auditEventView), nextCursor: page.nextCursor };
  }

  @Get('export')
  @ApiProduces('application/x-ndjson')
  @ApiOperation({ summary: 'Every matching event as JSON lines, oldest first (for a SIEM or an archive)' })
  async export(@Query() query: AuditFilterQuery, @Audit() context: AuditContext, @Res() res: Response): Promise<void> {
    const filter = auditFilter(query);
    res.status(200).type('application/x-ndjson').set('Cache-Control', 'no-store');
    let count = 0;
    try {
      for await (const event of this.audit.export(filter)) {
        res.write(`${JSON.stringify(auditEventView(event))}\n`);
        count += 1;
      }
      // Reading the whole trail is itself worth a record: written after the last line is read, so an export never
      // contains its own event, and before the response ends, so a client that has the export finds the record.
      // If it cannot be written the export is cut rather than left unaudited.
      await this.audit.record(context, { type: 'audit.exported', outcome: 'success', details: { events: count, filter: { ...query } } });
    } catch (error) {
      // Before the first line the error filter can still answer with JSON; after it, only a cut connection
      // tells the client the export is incomplete.
      if (!res.headersSent) throw error;
      res.destroy(error as Error);
      return;
    }
    res.end();
  }
}
