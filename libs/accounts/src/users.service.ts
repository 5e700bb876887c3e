import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { CLOCK, Clock } from '@app/config';
import { InviteRepository } from './invite.repository';
import { LastAdminGuard } from './last-admin.guard';
import { normalizeGroups, normalizeUsername } from './names';
import { SessionsEndedReason } from './session-generation';
import { User } from './user.entity';
import { UserRepository } from './user.repository';

/** A person as an OpenID provider vouched for them in a verified ID token. */
export interface FederatedIdentity {
  issuer: string;
  subject: string;
  username: string;
  displayName?: string | null;
  /** In canonical form (groupsFromProvider): the list every sign-in decision used. */
  groups: string[];
}

/** `force`: the service CLI's break-glass override of the last-admin rule (audited). */
export interface AdminChangeOptions {
  force?: boolean;
}

export interface NewUser {
  username: string;
  displayName?: string | null;
  groups?: string[];
  webauthnUserId: string;
}

@Injectable()
export class UsersService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly audit: AuditService,
    private readonly repository: UserRepository,
    private readonly lastAdmin: LastAdminGuard,
    private readonly invites: InviteRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  static newWebAuthnUserId(): string {
    return randomBytes(32).toString('base64url');
  }

  findById(id: string): Promise<User | null> {
    return this.uow.run((tx) => this.repository.findById(tx, id));
  }

  findByUsername(username: string): Promise<User | null> {
    return this.uow.run((tx) => this.repository.findByUsername(tx, username.trim().toLowerCase()));
  }

  list(): Promise<User[]> {
    return this.uow.run((tx) => this.repository.list(tx));
  }

  async getById(id: string): Promise<User> {
    const user = await this.findById(id);
    if (!user) throw new AppError(ErrorCode.NotFound, 'no such user');
    return user;
  }

  /** Accepts an id or a username, as admins type either. */
  async resolve(idOrUsername: string): Promise<User> {
    const user = (await this.findById(idOrUsername)) ?? (await this.findByUsername(idOrUsername));
    if (!user) throw new AppError(ErrorCode.NotFound, 'no such user');
    return user;
  }

  /** Inside the enrollment transaction: the user appears together with their first passkey or not at all. */
  async create(tx: Tx, input: NewUser): Promise<User> {
    const now = this.clock.now();
    const username = normalizeUsername(input.username);
    const user = Object.assign(new User(), {
      id: randomUUID(),
      username,
      displayName: input.displayName?.trim() || username,
      groups: normalizeGroups(input.groups),
      webauthnUserId: input.webauthnUserId,
      sessionGeneration: 0,
      sessionsEndedReason: null,
      sessionsEndedAt: null,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
      lastLoginAt: null,
      lastLoginMethod: null,
      idpIssuer: null,
      idpSubject: null,
      lastIdpLoginAt: null,
    });
    await this.repository.insert(tx, user);
    return user;
  }

  /**
   * Just-in-time account for a provider sign-in, inside the sign-in's unit of work: the person linked to (issuer,
   * subject) — never found by name or e-mail — created on their first sign-in; their groups replaced by the
   * provider's every time. The username is fixed when the account is created (renaming at the provider does not
   * move the account onto someone else's name). A name already used by another account (a local, invited person or
   * another provider's) is refused: a provider account never takes over an account it is not linked to.
   */
  async linkFederated(tx: Tx, identity: FederatedIdentity, at: Date): Promise<{ user: User; created: boolean }> {
    const linked = await this.repository.findByIdentity(tx, identity.issuer, identity.subject);
    const groups = normalizeGroups(identity.groups);
    if (linked) {
      const changes = {
        displayName: identity.displayName?.trim() || linked.displayName,
        groups,
        updatedAt: at,
        lastIdpLoginAt: at,
      };
      await this.repository.update(tx, linked.id, changes);
      return { user: Object.assign(linked, changes), created: false };
    }
    const username = normalizeUsername(identity.username);
    if (await this.repository.findByUsername(tx, username)) {
      throw new AppError(
        ErrorCode.Conflict,
        `an account named "${username}" already exists here and is not linked to your identity provider account; ask an administrator`,
        'username_taken',
      );
    }
    // A pending invite reserves its name for the person it was sent to: refused like a taken name (the message does
    // not say an invite exists), never renamed, so the invited person and the provider account stay two people.
    if (await this.invites.holdsUsername(tx, username, at)) {
      const message = `an account named "${username}" already exists here and is not linked to your identity provider account; ask an administrator`;
      throw new AppError(ErrorCode.Conflict, message, 'username_reserved_by_invite');
    }
    const user = await this.create(tx, {
      username,
      displayName: identity.displayName,
      groups,
      webauthnUserId: UsersService.newWebAuthnUserId(),
    });
    const link = { idpIssuer: identity.issuer, idpSubject: identity.subject, lastIdpLoginAt: at };
    await this.repository.update(tx, user.id, link);
    return { user: Object.assign(user, link), created: true };
  }

  /**
   * The provider ended this person's session there (back-channel logout): every Airflow session and token of theirs
   * is refused from its next confirmation on, for good (a new generation, see session-generation.ts), so an admin
   * re-adding groups brings none of them back. Their groups are emptied too, until their next provider sign-in
   * brings the provider's groups (and a new session) back. Returns false for an unknown person.
   */
  async endFederatedSessions(context: AuditContext, issuer: string, subject: string): Promise<boolean> {
    return this.uow.run(async (tx) => {
      const user = await this.repository.findByIdentity(tx, issuer, subject);
      if (!user) return false;
      const at = this.clock.now();
      await this.repository.update(tx, user.id, { groups: [], updatedAt: at });
      await this.repository.endSessions(tx, user.id, SessionsEndedReason.ProviderLogout, at);
      await this.audit.record(
        context,
        {
          type: 'user.sessions_ended',
          outcome: 'success',
          reason: 'idp_backchannel_logout',
          subjectType: 'user',
          subjectId: user.id,
          details: { username: user.username, idp: issuer, groupsBefore: user.groups },
        },
        tx,
      );
      return true;
    });
  }

  /**
   * Disabling ends every session and token of the person for good: enabling them again lets them sign in again,
   * it does not bring back what they held before. Refused when it would disable the last administrator.
   */
  async setDisabled(
    context: AuditContext,
    idOrUsername: string,
    disabled: boolean,
    options: AdminChangeOptions = {},
  ): Promise<User> {
    const user = await this.resolve(idOrUsername);
    await this.uow.run(async (tx) => {
      const at = this.clock.now();
      const { overridden } = await this.lastAdmin.keepAnAdmin(tx, disabled && !!options.force, async () => {
        await this.repository.update(tx, user.id, { disabledAt: disabled ? at : null, updatedAt: at });
        if (disabled) await this.repository.endSessions(tx, user.id, SessionsEndedReason.AccountDisabled, at);
      });
      const details = { username: user.username, ...(overridden ? { lastAdminOverride: true } : {}) };
      await this.audit.record(
        context,
        {
          type: disabled ? 'user.disabled' : 'user.enabled',
          outcome: 'success',
          subjectType: 'user',
          subjectId: user.id,
          details,
        },
        tx,
      );
    });
    return this.getById(user.id);
  }

  /** Refused when new groups would take the last administrator out of every admin group. */
  async update(
    context: AuditContext,
    idOrUsername: string,
    changes: { displayName?: string; groups?: string[] },
    options: AdminChangeOptions = {},
  ): Promise<User> {
    const user = await this.resolve(idOrUsername);
    const before = { displayName: user.displayName, groups: user.groups };
    if (changes.displayName !== undefined) user.displayName = changes.displayName.trim() || user.username;
    if (changes.groups !== undefined) user.groups = normalizeGroups(changes.groups);
    user.updatedAt = this.clock.now();
    await this.uow.run(async (tx) => {
      const { overridden } = await this.lastAdmin.keepAnAdmin(tx, !!options.force, async () => {
        const { displayName, groups, updatedAt } = user;
        await this.repository.update(tx, user.id, { displayName, groups, updatedAt });
      });
      const after = { displayName: user.displayName, groups: user.groups };
      await this.audit.record(
        context,
        {
          type: 'user.updated',
          outcome: 'success',
          subjectType: 'user',
          subjectId: user.id,
          details: { before, after, ...(overridden ? { lastAdminOverride: true } : {}) },
        },
        tx,
      );
    });
    return user;
  }
}
