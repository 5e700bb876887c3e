import { Inject, Injectable } from '@nestjs/common';
import { AdminChangeOptions, LastAdminGuard, SessionsEndedReason, UserRepository } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { CLOCK, Clock } from '@app/config';
import { PASSKEY_LABEL_MAX_LENGTH } from './ceremony.types';
import { Passkey } from './passkey.entity';
import { PasskeyRepository } from './passkey.repository';

/** Listing, renaming and revoking passkeys, for admins and for their owners; unflagging, for admins. */
@Injectable()
export class PasskeysService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly lastAdmin: LastAdminGuard,
    private readonly users: UserRepository,
    private readonly passkeys: PasskeyRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  listForUser(userId: string, includeRevoked = true): Promise<Passkey[]> {
    return this.uow.run((tx) => this.passkeys.listForUser(tx, userId, !includeRevoked));
  }

  findById(id: string): Promise<Passkey | null> {
    return this.uow.run((tx) => this.passkeys.findById(tx, id));
  }

  async get(id: string, ownerId?: string): Promise<Passkey> {
    const passkey = await this.uow.run((tx) => this.passkeys.findById(tx, id));
    // An owner asking about someone else's passkey learns nothing more than "not found".
    if (!passkey || (ownerId !== undefined && passkey.userId !== ownerId))
      throw new AppError(ErrorCode.NotFound, 'no such passkey');
    return passkey;
  }

  async rename(context: AuditContext, id: string, label: string, ownerId?: string): Promise<Passkey> {
    const passkey = await this.get(id, ownerId);
    const clean = label.trim();
    if (!clean || clean.length > PASSKEY_LABEL_MAX_LENGTH)
      throw new AppError(ErrorCode.InvalidRequest, `label must be 1-${PASSKEY_LABEL_MAX_LENGTH} characters`);
    await this.uow.run(async (tx) => {
      await this.passkeys.rename(tx, id, clean);
      await this.audit.record(
        context,
        {
          type: 'passkey.renamed',
          outcome: 'success',
          subjectType: 'user',
          subjectId: passkey.userId,
          details: { passkeyId: id, from: passkey.label, to: clean },
        },
        tx,
      );
    });
    passkey.label = clean;
    return passkey;
  }

  /**
   * @param keepOne when true (self-service), refuses to revoke the owner's last active passkey unless
   * `lastAllowed` says a way back in exists (a pending re-enrollment invite). Refused, whoever asks, when it would
   * leave no administrator able to sign in, unless `force` (the service CLI's break-glass override, audited).
   */
  async revoke(
    context: AuditContext,
    id: string,
    opts: { ownerId?: string; keepOne?: boolean; lastAllowed?: boolean } & AdminChangeOptions = {},
  ): Promise<Passkey> {
    const passkey = await this.get(id, opts.ownerId);
    if (passkey.revokedAt) throw new AppError(ErrorCode.Conflict, 'this passkey is already revoked');
    if (opts.keepOne && !opts.lastAllowed) {
      const active = await this.uow.run((tx) => this.passkeys.countActiveOf(tx, passkey.userId));
      if (active <= 1)
        throw new AppError(
          ErrorCode.Conflict,
          'this is your last passkey: add another one first, or ask an administrator for a re-enrollment invite',
        );
    }
    const now = this.clock.now();
    await this.uow.run(async (tx) => {
      const { overridden } = await this.lastAdmin.keepAnAdmin(tx, !!opts.force, async () => {
        if (!(await this.passkeys.revoke(tx, id, now)))
          throw new AppError(ErrorCode.Conflict, 'this passkey is already revoked');
      });
      const details = { passkeyId: id, label: passkey.label, ...(overridden ? { lastAdminOverride: true } : {}) };
      await this.audit.record(
        context,
        { type: 'passkey.revoked', outcome: 'success', subjectType: 'user', subjectId: passkey.userId, details },
        tx,
      );
    });
    passkey.revokedAt = now;
    return passkey;
  }

  /**
   * An admin's verdict after reviewing a flagged passkey (e.g. a counter that went backwards for an innocent
   * reason): it signs in again. The flag's reason and time go into the audit event, since the row forgets them.
   * Sessions from before the unflag stay ended (the owner's session generation goes up): whoever held a clone may
   * have signed in with it, so the owner signs in again rather than the unflag reviving what was blocked.
   */
  async unflag(context: AuditContext, id: string): Promise<Passkey> {
    const passkey = await this.get(id);
    if (passkey.revokedAt)
      throw new AppError(ErrorCode.Conflict, 'this passkey is revoked; a revoked passkey cannot be unblocked');
    if (!passkey.flaggedAt) throw new AppError(ErrorCode.Conflict, 'this passkey is not flagged');
    await this.uow.run(async (tx) => {
      if (!(await this.passkeys.unflag(tx, id)))
        throw new AppError(ErrorCode.Conflict, 'this passkey changed meanwhile; look again');
      await this.users.endSessions(tx, passkey.userId, SessionsEndedReason.PasskeyFlagged, this.clock.now());
      const details = {
        passkeyId: id,
        label: passkey.label,
        flagReason: passkey.flagReason,
        flaggedAt: passkey.flaggedAt!.toISOString(),
      };
      await this.audit.record(
        context,
        { type: 'passkey.unflagged', outcome: 'success', subjectType: 'user', subjectId: passkey.userId, details },
        tx,
      );
    });
    passkey.flaggedAt = null;
    passkey.flagReason = null;
    return passkey;
  }
}
