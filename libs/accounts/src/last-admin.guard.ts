import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx } from '@app/persistence';
import { UserRepository } from './user.repository';

/** Whether a change that left no administrator went through anyway (`--force` on the service CLI). */
export interface AdminGuardOutcome {
  overridden: boolean;
}

/**
 * The last administrator stays: no change (demotion, disable, passkey revoked) may leave the deployment without an
 * enabled person in an ADMIN_GROUPS group who can sign in (an active passkey), unless it is forced from the service
 * CLI, the break-glass path on the database. Decided inside the change's own unit of work, from what it would leave.
 * A deployment that has no such person yet (before the first admin enrolled) is not blocked by it.
 */
@Injectable()
export class LastAdminGuard {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly users: UserRepository,
  ) {}

  /** Runs `change` in `tx` and refuses (throws, so the unit of work rolls back) if it removed the last admin. */
  async keepAnAdmin(tx: Tx, force: boolean, change: () => Promise<void>): Promise<AdminGuardOutcome> {
    // Two admins demoting each other at the same time are decided one after the other.
    await this.users.lockAdminChanges(tx);
    const before = await this.countAdmins(tx);
    await change();
    if (before === 0 || (await this.countAdmins(tx)) > 0) return { overridden: false };
    if (force) return { overridden: true };
    throw new AppError(
      ErrorCode.LastAdmin,
      `this would leave no enabled person in ${this.config.adminGroups.join(' or ')} with an active passkey: ` +
        "make someone else an administrator first (break-glass: the auth service's own CLI on its host can override this with --force, audited)",
    );
  }

  private async countAdmins(tx: Tx): Promise<number> {
    const people = await this.users.groupsOfActivePeople(tx);
    return people.filter((groups) => groups.some((g) => this.config.adminGroups.includes(g))).length;
  }
}
