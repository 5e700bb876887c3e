import { CanActivate, ExecutionContext, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { AppError, ErrorCode } from '@app/errors';
import { AdminAccess, AdminAccessPolicy, PrincipalService } from '@app/principals';
import './principal';

export const REQUIRE_ADMIN = 'requireAdmin';
/** The route belongs to the admin API: AdminAccessPolicy decides who may call it. */
export const AdminOnly = () => SetMetadata(REQUIRE_ADMIN, true);

export const STATUS_READ = 'statusRead';
/** This admin GET reads user, passkey or service-account status: a `sessions:read` token may call it. */
export const StatusRead = () => SetMetadata(STATUS_READ, true);

export function bearerOf(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  if (!match)
    throw new AppError(
      ErrorCode.Unauthenticated,
      'Authorization header must be "Bearer <token>"',
      'malformed_authorization',
    );
  return match[1];
}

/** GET (and HEAD, which Express routes to GET handlers) reads; every other method changes something. */
function adminAccessOf(req: Request, statusRead: boolean): AdminAccess {
  if (req.method !== 'GET' && req.method !== 'HEAD') return 'mutation';
  return statusRead ? 'status-read' : 'read';
}

/**
 * Requires a Bearer access token from this service and puts the principal behind it on the request. Who the
 * principal is now and what they may do are decided by PrincipalService and AdminAccessPolicy; this only asks them.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(
    private readonly principals: PrincipalService,
    private readonly adminAccess: AdminAccessPolicy,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const token = bearerOf(req);
    if (!token) throw new AppError(ErrorCode.Unauthenticated, 'a Bearer access token is required');
    req.principal = await this.principals.authenticate(token);
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(REQUIRE_ADMIN, targets)) {
      this.adminAccess.authorize(
        req.principal,
        adminAccessOf(req, !!this.reflector.getAllAndOverride<boolean>(STATUS_READ, targets)),
      );
    }
    return true;
  }
}
