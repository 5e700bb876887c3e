import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { isUniqueViolation } from '@app/persistence';
import { AppError, ERROR_STATUS } from '@app/errors';

const REASON_PHRASES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Body-parser errors carry a status and a type but are not HttpExceptions. */
interface ParserError {
  status?: number;
  statusCode?: number;
  type?: string;
  expose?: boolean;
  message?: string;
}

/**
 * Here, in the app, because it maps every lib's failures to HTTP (AppError from libs/errors, a lost unique-constraint
 * race from libs/persistence, Express's body-parser errors); libs/errors stays a leaf that any lib can import.
 *
 * Every error leaves as `{"statusCode","error","message"}` with a single string message, plus `code` (an
 * ErrorCode) when the service refused on purpose. Unknown exceptions are
 * logged and become a bare 500 with no detail, so internals never leak.
 */
@Catch()
export class AppErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { status, message, code } = this.describe(exception);
    // A 5xx AppError is an expected failure (the identity provider is down) whose raiser logged its cause in
    // one line; only the unexpected get a stack trace.
    if (status >= 500 && !(exception instanceof AppError)) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (response.headersSent) return;
    response
      .status(status)
      .json({ statusCode: status, error: REASON_PHRASES[status] ?? 'Error', message, ...(code ? { code } : {}) });
  }

  private describe(exception: unknown): { status: number; message: string; code?: string } {
    // `code` lets clients tell refusals of one status apart (e.g. 401 step_up_required vs unauthenticated).
    if (exception instanceof AppError)
      return { status: ERROR_STATUS[exception.code], message: exception.message, code: exception.code };
    // A write that lost a race on a unique constraint is the client's conflict, not a server fault.
    if (isUniqueViolation(exception))
      return { status: HttpStatus.CONFLICT, message: 'this conflicts with a record that was just created; retry' };
    if (exception instanceof HttpException) {
      const parserType = (exception.cause as ParserError | undefined)?.type;
      if (parserType) return { status: exception.getStatus(), message: parserMessage(parserType, exception.message) };
      const body = exception.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const message = Array.isArray(raw) ? raw.join('; ') : typeof raw === 'string' ? raw : exception.message;
      return { status: exception.getStatus(), message };
    }
    const parser = exception as ParserError;
    const status = parser?.status ?? parser?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return { status, message: parserMessage(parser.type, parser.message ?? 'bad request') };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'internal error' };
  }
}

function parserMessage(type: string | undefined, fallback: string): string {
  if (type === 'entity.too.large') return 'request body is too large (limit 64 KiB)';
  if (type === 'entity.parse.failed') return 'request body is not valid JSON';
  return fallback;
}
