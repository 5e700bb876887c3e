import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import type { Principal } from './principal';
import { StepUpPolicy } from './step-up.policy';

/**
 * What an admin API request is, for deciding who may make it:
 * - `read`: any other GET;
 * - `mutation`: anything that changes state (every non-GET route).
 */
export type AdminAccess = 'read' | 'mutation';

/**
 * Who may use the /v1/admin API, decided from the principal's CURRENT groups. A person's mutations also need a
 * fresh, user-verified sign-in (StepUpPolicy); the group check comes first, so a non-admin learns nothing about it.
 */
@Injectable()
export class AdminAccessPolicy {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly stepUp: StepUpPolicy,
  ) {}

  authorize(principal: Principal, access: AdminAccess): void {
    this.requireAdminGroup(principal);
    if (principal.kind === 'user' && access === 'mutation') this.stepUp.requireFreshVerifiedSignIn(principal, 'this change');
  }

  private requireAdminGroup(principal: Principal): void {
    if (!principal.groups.some((g) => this.config.adminGroups.includes(g))) {
      throw new AppError(ErrorCode.Forbidden, `this needs membership of ${this.config.adminGroups.join(' or ')}`);
    }
  }
}
