import { ArgumentsHost, Catch, ExceptionFilter, HttpException } from '@nestjs/common';
import type { Response } from 'express';
import { AppErrorFilter } from '../http/app-error.filter';

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unauthorized_client'
  | 'invalid_grant'
  // RFC 8628 §3.5: a device code's poll that gets no token (yet).
  | 'authorization_pending'
  | 'slow_down'
  | 'expired_token'
  | 'access_denied';

const STATUS: Record<OAuthErrorCode, number> = {
  invalid_request: 400,
  invalid_client: 401,
  invalid_grant: 400,
  unsupported_grant_type: 400,
  invalid_scope: 400,
  unauthorized_client: 400,
  authorization_pending: 400,
  slow_down: 400,
  expired_token: 400,
  access_denied: 400,
};

export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
  ) {
    super(description);
  }
}

/** The token endpoint speaks RFC 6749 §5.2 (`{"error","error_description"}`), not the service's usual error body. */
@Catch()
export class OAuthErrorFilter implements ExceptionFilter {
  private readonly fallback = new AppErrorFilter();

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    let error: OAuthError | undefined;
    if (exception instanceof OAuthError) error = exception;
    else if (exception instanceof HttpException && exception.getStatus() === 400) {
      const body = exception.getResponse() as { message?: unknown };
      const message = Array.isArray(body?.message)
        ? body.message.join('; ')
        : typeof body?.message === 'string'
          ? body.message
          : 'bad request';
      error = new OAuthError('invalid_request', message);
    }
    if (!error) return this.fallback.catch(exception, host);
    res.status(STATUS[error.error]).set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
    // RFC 6749 §5.2: a failed client authentication through the Authorization header answers with a challenge.
    if (error.error === 'invalid_client')
      res.set('WWW-Authenticate', 'Basic realm="airflow-webauthn", charset="UTF-8"');
    res.json({ error: error.error, error_description: error.description });
  }
}
