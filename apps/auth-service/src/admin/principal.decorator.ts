import { createParamDecorator, ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import { AppError, ErrorCode } from '@app/errors';
import type { Principal } from '../http/principal';

/** The caller BearerGuard verified; only valid on routes behind that guard. */
export const CurrentPrincipal = createParamDecorator((_data: unknown, ctx: ExecutionContext): Principal => {
  const principal = ctx.switchToHttp().getRequest<Request>().principal;
  // Reaching a handler without a principal means the guard is missing: fail closed rather than act anonymously.
  if (!principal) throw new AppError(ErrorCode.Unauthenticated, 'a Bearer access token is required');
  return principal;
});
