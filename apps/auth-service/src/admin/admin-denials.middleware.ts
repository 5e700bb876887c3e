import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { AuditService } from '@app/audit';
import { auditContextOf } from '../http/audit-context.decorator';

/**
 * Every refused admin API call is evidence: a 401 (no or a bad token; anonymous, so aggregated per address like
 * other unauthenticated failures) or a 403 (a known principal without the right; recorded one by one, naming them).
 * Recorded when the response is finished, whichever guard or handler refused it.
 */
@Injectable()
export class AdminDenialsAudit implements NestMiddleware {
  private readonly logger = new Logger('AdminDenials');

  constructor(private readonly audit: AuditService) {}

  use(req: Request, res: Response, next: NextFunction): void {
    res.on('finish', () => {
      if (res.statusCode !== 401 && res.statusCode !== 403) return;
      const reason = res.statusCode === 401 ? 'unauthenticated' : 'forbidden';
      this.audit
        .record(auditContextOf(req), {
          type: 'admin.denied',
          outcome: 'failure',
          reason,
          details: { method: req.method, path: req.originalUrl.split('?')[0]!.slice(0, 200) },
        })
        .catch((error: Error) => this.logger.error(`recording a refused admin call failed: ${error.message}`));
    });
    next();
  }
}
