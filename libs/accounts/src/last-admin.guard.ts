import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx } from '@app/persistence';

/** Enabled people holding at least one passkey that is neither revoked nor flagged (their groups decide the rest). */
const ACTIVE_PEOPLE =
  'SELECT u.groups FROM users u WHERE u.disabled_at IS NULL AND EXISTS ' +
  '(SELECT 1 FROM passkeys p WHERE p.user_id = u.id AND p.revoked_at IS NULL AND p.flagged_at IS NULL)';
/**
 * Arbitrary but fixed: every change that may remove an administrator takes this transaction-level lock on
 * PostgreSQL, so two admins demoting each other at the same time are decided one after the other (the second one
 * counts after the first committed). SQLite runs one unit of work at a time already.
 */
const LAST_ADMIN_LOCK_KEY = 7_366_300_001;

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
  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  /** Runs `change` in `tx` and refuses (throws, so the unit of work rolls back) if it removed the last admin. */
  async keepAnAdmin(tx: Tx, force: boolean, change: () => Promise<void>): Promise<AdminGuardOutcome> {
    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [LAST_ADMIN_LOCK_KEY]);
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
    const { rows } = await tx.query<{ groups: string }>(ACTIVE_PEOPLE);
    return rows.filter((row) => parseGroups(row.groups).some((g) => this.config.adminGroups.includes(g))).length;
  }
}

function parseGroups(text: string): string[] {
  try {
    const groups: unknown = JSON.parse(text);
    return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
  } catch {
    return [];
  }
}
