import { Inject, Injectable, Logger, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { APP_CONFIG, AppConfig, effectiveLogFormat } from '@app/config';

/**
 * One line per request: method, path, status, duration and client address; never bodies, query strings or
 * headers, which is where invite tokens, secrets and assertions travel. JSON logs get the fields as an object,
 * text logs one readable line (`POST /v1/oauth/token 200 3.1ms 10.0.0.7`).
 */
@Injectable()
export class RequestLogMiddleware implements NestMiddleware {
  private readonly logger = new Logger('HTTP');
  private readonly json: boolean;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.json = effectiveLogFormat(config) === 'json';
  }

  use(req: Request, res: Response, next: NextFunction): void {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Math.round((Number(process.hrtime.bigint() - started) / 1e6) * 10) / 10;
      const fields = {
        method: req.method,
        path: req.originalUrl.split('?')[0],
        status: res.statusCode,
        ms,
        ip: req.ip,
      };
      const line = this.json ? fields : `${fields.method} ${fields.path} ${fields.status} ${ms}ms ${fields.ip ?? '-'}`;
      if (res.statusCode >= 500) this.logger.error(line);
      else if (req.path === '/healthz' || req.path === '/readyz') this.logger.debug(line);
      else this.logger.log(line);
    });
    next();
  }
}
