import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Not, Repository } from 'typeorm';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Passkey } from './passkey.entity';

/** Listing, renaming and revoking passkeys, for admins and for their owners; unflagging, for admins. */
@Injectable()
export class PasskeysService {
  constructor(
    @InjectRepository(Passkey) private readonly passkeys: Repository<Passkey>,
    private readonly audit: AuditService,
  ) {}

  listForUser(userId: string, includeRevoked = true): Promise<Passkey[]> {
    return this.passkeys.find({ where: includeRevoked ? { userId } : { userId, revokedAt: IsNull() }, order: { createdAt: 'ASC' } });
  }

  findById(id: string): Promise<Passkey | null> {
    return this.passkeys.findOneBy({ id });
  }

  async get(id: string, ownerId?: string): Promise<Passkey> {
    const passkey = await this.passkeys.findOneBy({ id });
    // An owner asking about someone else's passkey learns nothing more than "not found".
    if (!passkey || (ownerId !== undefined && passkey.userId !== ownerId)) throw new AppError(ErrorCode.NotFound, 'no such passkey');
    return passkey;
  }

  async rename(context: AuditContext, id: string, label: string, ownerId?: string): Promise<Passkey> {
    const passkey = await this.get(id, ownerId);
    const clean = label.trim();
    if (!clean || clean.length > 128) throw new AppError(ErrorCode.InvalidRequest, 'label must be 1-128 characters');
    await this.passkeys.manager.transaction(async (m) => {
      await m.getRepository(Passkey).update({ id }, { label: clean });
      await this.audit.record(context, { type: 'passkey.renamed', outcome: 'success', subjectType: 'user', subjectId: passkey.userId, details: { passkeyId: id, from: passkey.label, to: clean } }, m);
    });
    passkey.label = clean;
    return passkey;
  }

  /**
   * @param keepOne when true (self-service), refuses to revoke the owner's last active passkey unless
   * `lastAllowed` says a way back in exists (a pending re-enrollment invite).
   */
  async revoke(context: AuditContext, id: string, opts: { ownerId?: string; keepOne?: boolean; lastAllowed?: boolean } = {}): Promise<Passkey> {
    const passkey = await this.get(id, opts.ownerId);
    if (passkey.revokedAt) throw new AppError(ErrorCode.Conflict, 'this passkey is already revoked');
    if (opts.keepOne && !opts.lastAllowed) {
      const active = await this.passkeys.countBy({ userId: passkey.userId, revokedAt: IsNull() });
      if (active <= 1) throw new AppError(ErrorCode.Conflict, 'this is your last passkey: add another one first, or ask an administrator for a re-enrollment invite');
    }
    const now = new Date();
    await this.passkeys.manager.transaction(async (m) => {
      const updated = await m.getRepository(Passkey).update({ id, revokedAt: IsNull() }, { revokedAt: now });
      if (updated.affected !== 1) throw new AppError(ErrorCode.Conflict, 'this passkey is already revoked');
      await this.audit.record(context, { type: 'passkey.revoked', outcome: 'success', subjectType: 'user', subjectId: passkey.userId, details: { passkeyId: id, label: passkey.label } }, m);
    });
    passkey.revokedAt = now;
    return passkey;
  }

  /**
   * An admin's verdict after reviewing a flagged passkey (e.g. a counter that went backwards for an innocent
   * reason): it signs in again. The flag's reason and time go into the audit event, since the row forgets them.
   */
  async unflag(context: AuditContext, id: string): Promise<Passkey> {
    const passkey = await this.get(id);
    if (passkey.revokedAt) throw new AppError(ErrorCode.Conflict, 'this passkey is revoked; a revoked passkey cannot be unblocked');
    if (!passkey.flaggedAt) throw new AppError(ErrorCode.Conflict, 'this passkey is not flagged');
    await this.passkeys.manager.transaction(async (m) => {
      const updated = await m.getRepository(Passkey).update({ id, flaggedAt: Not(IsNull()), revokedAt: IsNull() }, { flaggedAt: null, flagReason: null });
      if (updated.affected !== 1) throw new AppError(ErrorCode.Conflict, 'this passkey changed meanwhile; look again');
      const details = { passkeyId: id, label: passkey.label, flagReason: passkey.flagReason, flaggedAt: passkey.flaggedAt!.toISOString() };
      await this.audit.record(context, { type: 'passkey.unflagged', outcome: 'success', subjectType: 'user', subjectId: passkey.userId, details }, m);
    });
    passkey.flaggedAt = null;
    passkey.flagReason = null;
    return passkey;
  }
}
