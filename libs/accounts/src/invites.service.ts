import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { Invite } from './invite.entity';
import { InviteRepository } from './invite.repository';
import { ServiceAccountRepository } from './service-account.repository';
import { UserRepository } from './user.repository';
import { normalizeGroups, normalizeUsername } from './names';
import { hashSecret, newSecret } from './secrets';

export interface CreatedInvite {
  id: string;
  username: string;
  /** Shown once: only its hash is stored. */
  token: string;
  url: string;
  expiresAt: Date;
}

/** The one builder of invite links: the enrollment page (ENROLLMENT_URL, served by Airflow) with the token. */
export function enrollmentLink(enrollmentUrl: string, token: string): string {
  return `${enrollmentUrl}?invite=${encodeURIComponent(token)}`;
}

export type InviteState = 'pending' | 'used' | 'expired' | 'revoked';

export function inviteState(invite: Invite, now: Date): InviteState {
  if (invite.revokedAt) return 'revoked';
  if (invite.usedAt) return 'used';
  if (invite.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'pending';
}

@Injectable()
export class InvitesService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly invites: InviteRepository,
    private readonly users: UserRepository,
    private readonly serviceAccounts: ServiceAccountRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
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
    const existing = await this.uow.run((tx) => this.users.findByUsername(tx, username));
    if (existing && input.groups !== undefined && groups.join() !== existing.groups.join()) {
      throw new AppError(
        ErrorCode.Conflict,
        `user ${username} exists; change their groups with the users command, not an invite`,
      );
    }
    const ttl = input.ttlSeconds ?? this.config.inviteTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 60 || ttl > 30 * 24 * 3600) {
      throw new AppError(ErrorCode.InvalidRequest, 'ttlSeconds must be between 60 and 2592000');
    }
    const token = newSecret();
    const now = this.clock.now();
    const invite = Object.assign(new Invite(), {
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
    await this.uow.run(async (tx) => {
      await this.invites.insert(tx, invite);
      await this.audit.record(
        context,
        {
          type: 'invite.created',
          outcome: 'success',
          subjectType: 'invite',
          subjectId: invite.id,
          details: {
            username,
            groups: invite.groups,
            reenrollment: !!existing,
            expiresAt: invite.expiresAt.toISOString(),
          },
        },
        tx,
      );
    });
    return {
      id: invite.id,
      username,
      token,
      url: enrollmentLink(this.config.enrollmentUrl, token),
      expiresAt: invite.expiresAt,
    };
  }

  /** The invite a token stands for, if it can still be used. Every failure reads the same to the caller. */
  async findRedeemable(token: string): Promise<Invite> {
    const invite = await this.uow.run((tx) => this.invites.findByTokenHash(tx, hashSecret(token)));
    if (!invite || inviteState(invite, this.clock.now()) !== 'pending') {
      throw new AppError(
        ErrorCode.InvalidInvite,
        'this invite link is invalid, expired or already used; ask an administrator for a new one',
        invite ? `invite_${inviteState(invite, this.clock.now())}` : 'invite_unknown',
      );
    }
    return invite;
  }

  async findById(tx: Tx, id: string): Promise<Invite> {
    const invite = await this.invites.findById(tx, id);
    if (!invite) throw new AppError(ErrorCode.InvalidInvite, 'this invite link was revoked', 'invite_unknown');
    return invite;
  }

  /**
   * Inside the enrollment's committing unit of work: the invite must still be pending NOW (not used, not revoked,
   * not expired since the ceremony began). Of two enrollments racing on one invite, exactly one commits.
   */
  async markUsed(tx: Tx, invite: Invite, userId: string, now = this.clock.now()): Promise<void> {
    if (await this.invites.markUsed(tx, invite.id, userId, now)) return;
    throw notPending(inviteState((await this.invites.findById(tx, invite.id)) ?? invite, now));
  }

  /** Before deciding whose account an enrollment is for: a used, revoked or expired invite gets its own answer. */
  requirePending(invite: Invite, now = this.clock.now()): void {
    const state = inviteState(invite, now);
    if (state !== 'pending') throw notPending(state);
  }

  async get(id: string): Promise<Invite> {
    const invite = await this.uow.run((tx) => this.invites.findById(tx, id));
    if (!invite) throw new AppError(ErrorCode.NotFound, 'no such invite');
    return invite;
  }

  list(): Promise<Invite[]> {
    return this.uow.run((tx) => this.invites.listNewest(tx, 1000));
  }

  /**
   * Who made each invite, by name: `createdBy` holds the actor's id (a person's or a service account's, e.g. the
   * `airflow webauthn` CLI's) or the actor type ('cli' for this service's own CLI). Returns id → username or
   * service-account name; an actor since deleted, or a type, is not in the map.
   */
  creatorNames(invites: Invite[]): Promise<Map<string, string>> {
    const ids = [...new Set(invites.map((invite) => invite.createdBy))];
    return this.uow.run(
      async (tx) =>
        new Map([...(await this.serviceAccounts.namesByIds(tx, ids)), ...(await this.users.usernamesByIds(tx, ids))]),
    );
  }

  /** Pending invites for one user: the passkeys page uses this to allow removing a last passkey. */
  async hasPendingFor(userId: string): Promise<boolean> {
    const invites = await this.uow.run((tx) => this.invites.openFor(tx, userId));
    return invites.some((i) => inviteState(i, this.clock.now()) === 'pending');
  }

  async revoke(context: AuditContext, id: string): Promise<void> {
    const invite = await this.get(id);
    const state = inviteState(invite, this.clock.now());
    if (state !== 'pending') throw new AppError(ErrorCode.Conflict, `invite is already ${state}`);
    await this.uow.run(async (tx) => {
      await this.invites.markRevoked(tx, id, this.clock.now());
      await this.audit.record(
        context,
        {
          type: 'invite.revoked',
          outcome: 'success',
          subjectType: 'invite',
          subjectId: id,
          details: { username: invite.username },
        },
        tx,
      );
    });
  }
}

function notPending(state: InviteState): AppError {
  const message =
    state === 'expired'
      ? 'this invite link expired; ask an administrator for a new one'
      : `this invite link was already ${state === 'revoked' ? 'revoked' : 'used'}`;
  return new AppError(ErrorCode.InvalidInvite, message, `invite_${state === 'pending' ? 'used' : state}`);
}
