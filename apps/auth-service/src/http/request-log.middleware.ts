import { Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/**
 * One structured line per request. Only method, path, status, duration and client address: never bodies, query
 * strings or headers, which is where invite tokens, secrets and assertions travel.
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      const line = { method: req.method, path: req.originalUrl.split('?')[0], status: res.statusCode, ms: Math.round(ms * 10) / 10, ip: req.ip };
      if (res.statusCode >= 500) this.logger.error(line);
      else if (req.path === '/healthz' || req.path === '/readyz') this.logger.debug(line);
      else this.logger.log(line);
    });
    next();
  }
}
