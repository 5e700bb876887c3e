import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, IsNull, Repository } from 'typeorm';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Invite } from './invite.entity';
import { normalizeGroups, normalizeUsername } from './names';
import { hashSecret, newSecret } from './secrets';
import { User } from './user.entity';

export interface CreatedInvite {
  id: string;
  username: string;
  /** Shown once: only its hash is stored. */
  token: string;
  url: string;
  expiresAt: Date;
}

export type InviteState = 'pending' | 'used' | 'expired' | 'revoked';

export function inviteState(invite: Invite, now = new Date()): InviteState {
  if (invite.revokedAt) return 'revoked';
  if (invite.usedAt) return 'used';
  if (invite.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'pending';
}

@Injectable()
export class InvitesService {
  constructor(
    @InjectRepository(Invite) private readonly invites: Repository<Invite>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
  ) {}

  /**
   * An invite for a new username creates that user on enrollment; one for an existing user lets them enroll a
   * further passkey (re-enrollment after a lost device). Groups apply only to a new user.
   */
  async create(
    context: AuditContext,
    input: { username: string; displayName?: string; groups?: string[]; ttlSeconds?: number },
  ): Promise<CreatedInvite> {
    const username = normalizeUsername(input.username);
    const groups = normalizeGroups(input.groups);
    const existing = await this.invites.manager.getRepository(User).findOneBy({ username });
    if (existing && input.groups !== undefined && groups.join() !== existing.groups.join()) {
      throw new AppError(ErrorCode.Conflict, `user ${username} exists; change their groups with the users command, not an invite`);
    }
    const ttl = input.ttlSeconds ?? this.config.inviteTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 30 * 24 * 3600) {
      throw new AppError(ErrorCode.InvalidRequest, 'ttlSeconds must be between 60 and 2592000');
    }
    const token = newSecret();
    const now = new Date();
    const invite = this.invites.create({
      id: randomUUID(),
      tokenHash: hashSecret(token),
      username,
      displayName: input.displayName?.trim() || null,
      groups: existing ? existing.groups : groups,
      createdBy: context.actorId ?? context.actorType,
      createdAt: now,
      expiresAt: new Date(now.getTime() + ttl * 1000),
      usedAt: null,
      revokedAt: null,
      userId: existing?.id ?? null,
    });
    await this.invites.manager.transaction(async (manager) => {
      await manager.getRepository(Invite).insert(invite);
      await this.audit.record(
        context,
        { type: 'invite.created', outcome: 'success', subjectType: 'invite', subjectId: invite.id, details: { username, groups: invite.groups, reenrollment: !!existing, expiresAt: invite.expiresAt.toISOString() } },
        manager,
      );
    });
    const url = `${this.config.enrollmentUrl}?invite=${encodeURIComponent(token)}`;
    return { id: invite.id, username, token, url, expiresAt: invite.expiresAt };
  }

  /** The invite a token stands for, if it can still be used. Every failure reads the same to the caller. */
  async findRedeemable(token: string): Promise<Invite> {
    const invite = await this.invites.findOneBy({ tokenHash: hashSecret(token) });
    if (!invite || inviteState(invite) !== 'pending') {
      throw new AppError(ErrorCode.InvalidInvite, 'this invite link is invalid, expired or already used; ask an administrator for a new one', invite ? `invite_${inviteState(invite)}` : 'invite_unknown');
    }
    return invite;
  }

  async findById(manager: EntityManager, id: string): Promise<Invite> {
    const invite = await manager.getRepository(Invite).findOneBy({ id });
    if (!invite) throw new AppError(ErrorCode.InvalidInvite, 'this invite link was revoked', 'invite_unknown');
    return invite;
  }

  /** Conditional update: of two enrollments racing on one invite, exactly one commits. */
  async markUsed(manager: EntityManager, inviteId: string, userId: string): Promise<void> {
    const result = await manager
      .getRepository(Invite)
      .update({ id: inviteId, usedAt: IsNull(), revokedAt: IsNull() }, { usedAt: new Date(), userId });
    if (result.affected !== 1) throw new AppError(ErrorCode.InvalidInvite, 'this invite link was already used', 'invite_used');
  }

  async get(id: string): Promise<Invite> {
    const invite = await this.invites.findOneBy({ id });
    if (!invite) throw new AppError(ErrorCode.NotFound, 'no such invite');
    return invite;
  }

  list(): Promise<Invite[]> {
    return this.invites.find({ order: { createdAt: 'DESC' }, take: 1000 });
  }

  /** Pending invites for one user: the passkeys page uses this to allow removing a last passkey. */
  async hasPendingFor(userId: string): Promise<boolean> {
    const invites = await this.invites.findBy({ userId, usedAt: IsNull(), revokedAt: IsNull() });
    return invites.some((i) => inviteState(i) === 'pending');
  }

  async revoke(context: AuditContext, id: string): Promise<void> {
    const invite = await this.invites.findOneBy({ id });
    if (!invite) throw new AppError(ErrorCode.NotFound, 'no such invite');
    if (inviteState(invite) !== 'pending') throw new AppError(ErrorCode.Conflict, `invite is already ${inviteState(invite)}`);
    await this.invites.manager.transaction(async (manager) => {
      await manager.getRepository(Invite).update({ id }, { revokedAt: new Date() });
      await this.audit.record(context, { type: 'invite.revoked', outcome: 'success', subjectType: 'invite', subjectId: id, details: { username: invite.username } }, manager);
    });
  }
}
