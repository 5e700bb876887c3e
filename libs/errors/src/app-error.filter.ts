import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AppError, ERROR_STATUS } from './app-error';

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
 * Every error leaves as `{"statusCode","error","message"}` with a single string message. Unknown exceptions are
 * logged and become a bare 500 with no detail, so internals never leak.
 */
@Catch()
export class AppErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  catch(exception: unknown, host: ArgumentsHost): void {
    const response = host.switchToHttp().getResponse<Response>();
    const { status, message } = this.describe(exception);
    if (status >= 500) {
      this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    }
    if (response.headersSent) return;
    response.status(status).json({ statusCode: status, error: REASON_PHRASES[status] ?? 'Error', message });
  }

  private describe(exception: unknown): { status: number; message: string } {
    if (exception instanceof AppError) return { status: ERROR_STATUS[exception.code], message: exception.message };
    if (exception instanceof HttpException) {
      const body = exception.getResponse();
      const raw = typeof body === 'string' ? body : (body as { message?: unknown }).message;
      const message = Array.isArray(raw) ? raw.join('; ') : String(raw ?? exception.message);
      return { status: exception.getStatus(), message };
    }
    const parser = exception as ParserError;
    const status = parser?.status ?? parser?.statusCode;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      const message =
        parser.type === 'entity.too.large'
          ? 'request body is too large (limit 64 KiB)'
          : parser.type === 'entity.parse.failed'
            ? 'request body is not valid JSON'
            : (parser.message ?? 'bad request');
      return { status, message };
    }
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, message: 'internal error' };
  }
}
