import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import type { Principal } from './principal';

/**
 * What an admin API request is, for deciding who may make it:
 * - `read`: any other GET;
 * - `mutation`: anything that changes state (every non-GET route).
 */
export type AdminAccess = 'read' | 'mutation';

/** Who may use the /v1/admin API, decided from the principal's CURRENT groups. */
@Injectable()
export class AdminAccessPolicy {
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  authorize(principal: Principal, _access: AdminAccess): void {
    this.requireAdminGroup(principal);
  }

  private requireAdminGroup(principal: Principal): void {
    if (!principal.groups.some((g) => this.config.adminGroups.includes(g))) {
      throw new AppError(ErrorCode.Forbidden, `this needs membership of ${this.config.adminGroups.join(' or ')}`);
    }
  }
}
