import { CanActivate, ExecutionContext, Inject, Injectable, SetMetadata } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { ServiceAccountsService, UsersService } from '@app/accounts';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { LOGIN_CLIENT_ID, TokenVerifierService } from '@app/tokens';
import './principal';

export const REQUIRE_ADMIN = 'requireAdmin';
/** The route needs a Bearer token whose groups include one of ADMIN_GROUPS. */
export const AdminOnly = () => SetMetadata(REQUIRE_ADMIN, true);

export function bearerOf(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/i.exec(header.trim());
  if (!match) throw new AppError(ErrorCode.Unauthenticated, 'Authorization header must be "Bearer <token>"', 'malformed_authorization');
  return match[1];
}

/** Requires a valid access token from this service; with @AdminOnly(), also membership of an admin group. */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(
    private readonly verifier: TokenVerifierService,
    private readonly reflector: Reflector,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UsersService,
    private readonly serviceAccounts: ServiceAccountsService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const token = bearerOf(req);
    if (!token) throw new AppError(ErrorCode.Unauthenticated, 'a Bearer access token is required');
    const claims = await this.verifier.verify(token);
    req.principal = {
      kind: claims.client_id === LOGIN_CLIENT_ID ? 'user' : 'service_account',
      id: claims.sub,
      name: claims.preferred_username ?? claims.sub,
      groups: claims.groups,
      token: claims,
    };
    // A token outlives nothing: a disabled account loses API access at once, not when its token expires.
    if (!(await this.stillEnabled(req.principal.kind, claims.sub))) throw new AppError(ErrorCode.Unauthenticated, 'this account is disabled', 'principal_disabled');
    const adminOnly = this.reflector.getAllAndOverride<boolean>(REQUIRE_ADMIN, [context.getHandler(), context.getClass()]);
    if (adminOnly && !claims.groups.some((g) => this.config.adminGroups.includes(g))) {
      throw new AppError(ErrorCode.Forbidden, `this needs membership of ${this.config.adminGroups.join(' or ')}`);
    }
    return true;
  }

  private async stillEnabled(kind: 'user' | 'service_account', id: string): Promise<boolean> {
    if (kind === 'user') {
      const user = await this.users.findById(id);
      return !!user && !user.disabledAt;
    }
    const account = await this.serviceAccounts.resolve(id).catch(() => null);
    return !!account && !account.disabledAt;
  }
}
