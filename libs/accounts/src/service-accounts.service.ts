import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { fromSql, PortableSql } from '@app/persistence';
import { normalizeGroups } from './names';
import { normalizeScopes } from './scopes';
import { hashSecret, newSecret, secretMatches } from './secrets';
import { ServiceAccount } from './service-account.entity';

const BY_CLIENT_ID =
  'SELECT id, name, client_id, secret_hash, groups, scopes, created_by, created_at, secret_rotated_at, disabled_at FROM service_accounts WHERE client_id = ?';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface IssuedClientSecret {
  id: string;
  name: string;
  clientId: string;
  /** Shown once: only its hash is stored. */
  clientSecret: string;
  groups: string[];
  scopes: string[];
}

@Injectable()
export class ServiceAccountsService {
  constructor(
    @InjectRepository(ServiceAccount) private readonly accounts: Repository<ServiceAccount>,
    private readonly audit: AuditService,
  ) {}

  async create(context: AuditContext, input: { name: string; groups?: string[]; scopes?: string[] }): Promise<IssuedClientSecret> {
    const name = input.name.trim();
    if (!NAME.test(name)) throw new AppError(ErrorCode.InvalidRequest, 'name must be 1-128 characters: letters, digits and . _ -');
    if (await this.accounts.existsBy({ name })) throw new AppError(ErrorCode.Conflict, `a service account named ${name} exists`);
    const secret = newSecret();
    const now = new Date();
    const account = this.accounts.create({
      id: randomUUID(),
      name,
      clientId: `sa_${randomBytes(12).toString('base64url')}`,
      secretHash: hashSecret(secret),
      groups: normalizeGroups(input.groups),
      scopes: normalizeScopes(input.scopes),
      createdBy: context.actorId ?? context.actorType,
      createdAt: now,
      secretRotatedAt: now,
      disabledAt: null,
    });
    await this.accounts.manager.transaction(async (manager) => {
      await manager.getRepository(ServiceAccount).insert(account);
      await this.audit.record(context, { type: 'service_account.created', outcome: 'success', subjectType: 'service_account', subjectId: account.id, details: { name, clientId: account.clientId, groups: account.groups, scopes: account.scopes } }, manager);
    });
    return { id: account.id, name, clientId: account.clientId, clientSecret: secret, groups: account.groups, scopes: account.scopes };
  }

  list(): Promise<ServiceAccount[]> {
    return this.accounts.find({ order: { name: 'ASC' } });
  }

  /** By id only: a token's subject must name exactly this account, never one that happens to be called that. */
  findById(id: string): Promise<ServiceAccount | null> {
    return this.accounts.findOneBy({ id });
  }

  async resolve(idOrNameOrClientId: string): Promise<ServiceAccount> {
    const account =
      (await this.accounts.findOneBy({ id: idOrNameOrClientId })) ??
      (await this.accounts.findOneBy({ clientId: idOrNameOrClientId })) ??
      (await this.accounts.findOneBy({ name: idOrNameOrClientId }));
    if (!account) throw new AppError(ErrorCode.NotFound, 'no such service account');
    return account;
  }

  /**
   * Returns the account when the client id and secret match an enabled account; otherwise throws with a reason for
   * the audit trail (the client only ever sees "invalid_client").
   */
  async authenticate(clientId: string, clientSecret: string): Promise<ServiceAccount> {
    // Every token grant comes through here: one prepared statement rather than the repository API.
    const { rows } = await PortableSql.of(this.accounts.manager.connection).query(BY_CLIENT_ID, [clientId]);
    const account = rows[0] ? toServiceAccount(rows[0]) : undefined;
    if (!account) throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'unknown_client');
    if (!secretMatches(clientSecret, account.secretHash)) throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'bad_secret');
    if (account.disabledAt) throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'client_disabled');
    return account;
  }

  async rotateSecret(context: AuditContext, idOrName: string): Promise<IssuedClientSecret> {
    const account = await this.resolve(idOrName);
    const secret = newSecret();
    await this.accounts.manager.transaction(async (manager) => {
      await manager.getRepository(ServiceAccount).update({ id: account.id }, { secretHash: hashSecret(secret), secretRotatedAt: new Date() });
      await this.audit.record(context, { type: 'service_account.secret_rotated', outcome: 'success', subjectType: 'service_account', subjectId: account.id, details: { name: account.name } }, manager);
    });
    return { id: account.id, name: account.name, clientId: account.clientId, clientSecret: secret, groups: account.groups, scopes: account.scopes };
  }

  async setDisabled(context: AuditContext, idOrName: string, disabled: boolean): Promise<ServiceAccount> {
    const account = await this.resolve(idOrName);
    account.disabledAt = disabled ? new Date() : null;
    await this.accounts.manager.transaction(async (manager) => {
      await manager.getRepository(ServiceAccount).update({ id: account.id }, { disabledAt: account.disabledAt });
      await this.audit.record(context, { type: disabled ? 'service_account.disabled' : 'service_account.enabled', outcome: 'success', subjectType: 'service_account', subjectId: account.id, details: { name: account.name } }, manager);
    });
    return account;
  }
}

function toServiceAccount(row: Record<string, unknown>): ServiceAccount {
  return Object.assign(new ServiceAccount(), {
    id: row.id as string,
    name: row.name as string,
    clientId: row.client_id as string,
    secretHash: row.secret_hash as string,
    groups: fromSql.json<string[]>(row.groups),
    scopes: fromSql.json<string[]>(row.scopes),
    createdBy: row.created_by as string,
    createdAt: fromSql.instant(row.created_at)!,
    secretRotatedAt: fromSql.instant(row.secret_rotated_at)!,
    disabledAt: fromSql.instant(row.disabled_at),
  });
}
