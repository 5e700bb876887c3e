import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { normalizeGroups, normalizeUsername } from './names';
import { User } from './user.entity';

export interface NewUser {
  username: string;
  displayName?: string | null;
  groups?: string[];
  webauthnUserId: string;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(User) private readonly users: Repository<User>,
    private readonly audit: AuditService,
  ) {}

  static newWebAuthnUserId(): string {
    return randomBytes(32).toString('base64url');
  }

  findById(id: string): Promise<User | null> {
    return this.users.findOneBy({ id });
  }

  findByUsername(username: string): Promise<User | null> {
    return this.users.findOneBy({ username: username.trim().toLowerCase() });
  }

  findByWebAuthnUserId(webauthnUserId: string): Promise<User | null> {
    return this.users.findOneBy({ webauthnUserId });
  }

  list(): Promise<User[]> {
    return this.users.find({ order: { username: 'ASC' } });
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
  async create(manager: EntityManager, input: NewUser): Promise<User> {
    const now = new Date();
    const username = normalizeUsername(input.username);
    const user = manager.getRepository(User).create({
      id: randomUUID(),
      username,
      displayName: input.displayName?.trim() || username,
      groups: normalizeGroups(input.groups),
      webauthnUserId: input.webauthnUserId,
      createdAt: now,
      updatedAt: now,
      disabledAt: null,
      lastLoginAt: null,
    });
    await manager.getRepository(User).insert(user);
    return user;
  }

  async setDisabled(context: AuditContext, idOrUsername: string, disabled: boolean): Promise<User> {
    const user = await this.resolve(idOrUsername);
    await this.users.manager.transaction(async (manager) => {
      user.disabledAt = disabled ? new Date() : null;
      user.updatedAt = new Date();
      await manager.getRepository(User).update({ id: user.id }, { disabledAt: user.disabledAt, updatedAt: user.updatedAt });
      await this.audit.record(
        context,
        { type: disabled ? 'user.disabled' : 'user.enabled', outcome: 'success', subjectType: 'user', subjectId: user.id, details: { username: user.username } },
        manager,
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
    await this.users.manager.transaction(async (manager) => {
      await manager.getRepository(User).update({ id: user.id }, { displayName: user.displayName, groups: user.groups, updatedAt: user.updatedAt });
      await this.audit.record(
        context,
        { type: 'user.updated', outcome: 'success', subjectType: 'user', subjectId: user.id, details: { before, after: { displayName: user.displayName, groups: user.groups } } },
        manager,
      );
    });
    return user;
  }

  async recordLogin(manager: EntityManager, userId: string, at: Date): Promise<void> {
    await manager.getRepository(User).update({ id: userId }, { lastLoginAt: at });
  }
}
