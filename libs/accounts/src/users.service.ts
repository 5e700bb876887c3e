import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { InviteRepository } from './invite.repository';
import { normalizeGroups, normalizeUsername } from './names';
import { User } from './user.entity';

/** A person as an OpenID provider vouched for them in a verified ID token. */
export interface FederatedIdentity {
  issuer: string;
  subject: string;
  username: string;
  displayName?: string | null;
  /** In canonical form (groupsFromProvider): the list every sign-in decision used. */
  groups: string[];
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
    private readonly invites: InviteRepository,
  ) {}

  static newWebAuthnUserId(): string {
    return randomBytes(32).toString('base64url');
  }

  findById(id: string): Promise<User | null> {
    return this.uow.run((tx) => tx.manager.findOneBy(User, { id }));
  }

  findByUsername(username: string): Promise<User | null> {
    return this.uow.run((tx) => tx.manager.findOneBy(User, { username: username.trim().toLowerCase() }));
  }

  list(): Promise<User[]> {
    return this.uow.run((tx) => tx.manager.find(User, { order: { username: 'ASC' } }));
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
    const now = new Date();
    const username = normalizeUsername(input.username);
    const user = Object.assign(new User(), {
      id: randomUUID(),
      username,
      displayName: input.displayName?.trim() || username,
      groups: normalizeGroups(input.groups),
      webauthnUserId: input.webauthnUserId,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
      lastLoginAt: null,
      lastLoginMethod: null,
      idpIssuer: null,
      idpSubject: null,
      lastIdpLoginAt: null,
    });
    await tx.manager.insert(User, user);
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
    const linked = await tx.manager.findOneBy(User, { idpIssuer: identity.issuer, idpSubject: identity.subject });
    const groups = normalizeGroups(identity.groups);
    if (linked) {
      const changes = { displayName: identity.displayName?.trim() || linked.displayName, groups, updatedAt: at, lastIdpLoginAt: at };
      await tx.manager.update(User, { id: linked.id }, changes);
      return { user: Object.assign(linked, changes), created: false };
    }
    const username = normalizeUsername(identity.username);
    if (await tx.manager.findOneBy(User, { username })) {
      throw new AppError(ErrorCode.Conflict, `an account named "${username}" already exists here and is not linked to your identity provider account; ask an administrator`, 'username_taken');
    }
    // A pending invite reserves its name for the person it was sent to: refused like a taken name (the message does
    // not say an invite exists), never renamed, so the invited person and the provider account stay two people.
    if (await this.invites.holdsUsername(tx, username, at)) {
      const message = `an account named "${username}" already exists here and is not linked to your identity provider account; ask an administrator`;
      throw new AppError(ErrorCode.Conflict, message, 'username_reserved_by_invite');
    }
    const user = await this.create(tx, { username, displayName: identity.displayName, groups, webauthnUserId: UsersService.newWebAuthnUserId() });
    const link = { idpIssuer: identity.issuer, idpSubject: identity.subject, lastIdpLoginAt: at };
    await tx.manager.update(User, { id: user.id }, link);
    return { user: Object.assign(user, link), created: true };
  }

  /**
   * The provider ended this person's session there (back-channel logout): their groups are emptied, so every Airflow
   * session and token of theirs stops being honoured at its next confirmation (no group, no role), while their next
   * provider sign-in works again and brings the provider's groups back. Returns false for an unknown person.
   */
  async endFederatedSessions(context: AuditContext, issuer: string, subject: string): Promise<boolean> {
    return this.uow.run(async (tx) => {
      const user = await tx.manager.findOneBy(User, { idpIssuer: issuer, idpSubject: subject });
      if (!user) return false;
      await tx.manager.update(User, { id: user.id }, { groups: [], updatedAt: new Date() });
      await this.audit.record(
        context,
        { type: 'user.sessions_ended', outcome: 'success', reason: 'idp_backchannel_logout', subjectType: 'user', subjectId: user.id, details: { username: user.username, idp: issuer, groupsBefore: user.groups } },
        tx,
      );
      return true;
    });
  }

  async setDisabled(context: AuditContext, idOrUsername: string, disabled: boolean): Promise<User> {
    const user = await this.resolve(idOrUsername);
    await this.uow.run(async (tx) => {
      user.disabledAt = disabled ? new Date() : null;
      user.updatedAt = new Date();
      await tx.manager.update(User, { id: user.id }, { disabledAt: user.disabledAt, updatedAt: user.updatedAt });
      await this.audit.record(
        context,
        { type: disabled ? 'user.disabled' : 'user.enabled', outcome: 'success', subjectType: 'user', subjectId: user.id, details: { username: user.username } },
        tx,
      );
    });
    return user;
  }

  async update(context: AuditContext, idOrUsername: string, changes: { displayName?: string; groups?: string[] }): Promise<User> {
    const user = await this.resolve(idOrUsername);
    const before = { displayName: user.displayName, groups: user.groups };
    if (changes.displayName !== undefined) user.displayName = changes.displayName.trim() || user.username;
    if (changes.groups !== undefined) user.groups = normalizeGroups(changes.groups);
    user.updatedAt = new Date();
    await this.uow.run(async (tx) => {
      await tx.manager.update(User, { id: user.id }, { displayName: user.displayName, groups: user.groups, updatedAt: user.updatedAt });
      await this.audit.record(
        context,
        { type: 'user.updated', outcome: 'success', subjectType: 'user', subjectId: user.id, details: { before, after: { displayName: user.displayName, groups: user.groups } } },
        tx,
      );
    });
    return user;
  }
}
