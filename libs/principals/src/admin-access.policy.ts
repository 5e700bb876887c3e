import { Inject, Injectable } from '@nestjs/common';
import { SCOPE_ADMIN, SCOPE_SESSIONS_READ } from '@app/accounts';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import type { Principal } from './principal';
import { StepUpPolicy } from './step-up.policy';

/**
 * What an admin API request is, for deciding who may make it:
 * - `status-read`: reading user, passkey or service-account status (what `sessions:read` allows);
 * - `read`: any other GET;
 * - `mutation`: anything that changes state (every non-GET route).
 */
export type AdminAccess = 'status-read' | 'read' | 'mutation';

/**
 * Who may use the /v1/admin API, decided from the principal's CURRENT groups and scopes:
 * - a person: membership of an ADMIN_GROUPS group; mutations also need a fresh, user-verified sign-in (step-up),
 *   checked after the group so a non-admin learns nothing about it;
 * - a service account (not a person, so no step-up): `sessions:read` for status reads, or `admin` while it is
 *   also in an admin group for everything. No scope, no admin API.
 */
@Injectable()
export class AdminAccessPolicy {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stepUp: StepUpPolicy,
  ) {}

  authorize(principal: Principal, access: AdminAccess): void {
    if (principal.kind === 'service_account') return this.authorizeServiceAccount(principal, access);
    this.requireAdminGroup(principal);
    if (access === 'mutation') this.stepUp.requireFreshVerifiedSignIn(principal, 'this change');
  }

  private authorizeServiceAccount(principal: Principal, access: AdminAccess): void {
    if (access === 'status-read' && principal.scopes.includes(SCOPE_SESSIONS_READ)) return;
    if (!principal.scopes.includes(SCOPE_ADMIN)) {
      const needed = access === 'status-read' ? `${SCOPE_SESSIONS_READ} or ${SCOPE_ADMIN}` : SCOPE_ADMIN;
      throw new AppError(ErrorCode.InsufficientScope, `this needs the ${needed} scope`);
    }
    this.requireAdminGroup(principal);
  }

  private requireAdminGroup(principal: Principal): void {
    if (!principal.groups.some((g) => this.config.adminGroups.includes(g))) {
      throw new AppError(ErrorCode.Forbidden, `this needs membership of ${this.config.adminGroups.join(' or ')}`);
    }
  }
}
