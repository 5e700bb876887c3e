import { randomBytes, randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { normalizeGroups } from './names';
import { normalizeScopes } from './scopes';
import { hashSecret, newSecret, secretMatches } from './secrets';
import { SessionsEndedReason } from './session-generation';
import { ServiceAccount } from './service-account.entity';
import { ServiceAccountRepository } from './service-account.repository';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export interface IssuedClientSecret {
  id: string;
  name: string;
  clientId: string;
  /** Shown once: only its hash is stored. */
  clientSecret: string;
  groups: string[];
  scopes: string[];
  agent: boolean;
}

@Injectable()
export class ServiceAccountsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly accounts: ServiceAccountRepository,
    private readonly audit: AuditService,
  ) {}

  async create(
    context: AuditContext,
    input: { name: string; groups?: string[]; scopes?: string[]; agent?: boolean },
  ): Promise<IssuedClientSecret> {
    const name = input.name.trim();
    if (!NAME.test(name))
      throw new AppError(ErrorCode.InvalidRequest, 'name must be 1-128 characters: letters, digits and . _ -');
    const secret = newSecret();
    const now = new Date();
    const account = Object.assign(new ServiceAccount(), {
      id: randomUUID(),
      name,
      clientId: `sa_${randomBytes(12).toString('base64url')}`,
      secretHash: hashSecret(secret),
      groups: normalizeGroups(input.groups),
      scopes: normalizeScopes(input.scopes),
      agent: input.agent === true,
      createdBy: context.actorId ?? context.actorType,
      createdAt: now,
      secretRotatedAt: now,
      disabledAt: null,
      sessionGeneration: 0,
      sessionsEndedReason: null,
      sessionsEndedAt: null,
    });
    await this.uow.run(async (tx) => {
      if (await this.accounts.existsByName(tx, name))
        throw new AppError(ErrorCode.Conflict, `a service account named ${name} exists`);
      await this.accounts.insert(tx, account);
      await this.audit.record(
        context,
        {
          type: 'service_account.created',
          outcome: 'success',
          subjectType: 'service_account',
          subjectId: account.id,
          details: {
            name,
            clientId: account.clientId,
            groups: account.groups,
            scopes: account.scopes,
            agent: account.agent,
          },
        },
        tx,
      );
    });
    return {
      id: account.id,
      name,
      clientId: account.clientId,
      clientSecret: secret,
      groups: account.groups,
      scopes: account.scopes,
      agent: account.agent,
    };
  }

  list(): Promise<ServiceAccount[]> {
    return this.uow.run((tx) => this.accounts.list(tx));
  }

  /** The enabled agents, by name (a person's choice of whom to delegate to: names and client ids, no secrets). */
  enabledAgents(): Promise<ServiceAccount[]> {
    return this.uow.run((tx) => this.accounts.enabledAgents(tx));
  }

  /** By id only: a token's subject must name exactly this account, never one that happens to be called that. */
  findById(id: string): Promise<ServiceAccount | null> {
    return this.uow.run((tx) => this.accounts.findById(tx, id));
  }

  async resolve(idOrNameOrClientId: string): Promise<ServiceAccount> {
    const account = await this.uow.run((tx) => this.accounts.resolve(tx, idOrNameOrClientId));
    if (!account) throw new AppError(ErrorCode.NotFound, 'no such service account');
    return account;
  }

  /**
   * Returns the account when the client id and secret match an enabled account; otherwise throws with a reason for
   * the audit trail (the client only ever sees "invalid_client"). Runs in the caller's unit of work: the grant reads
   * the account and records its token in one transaction (a unit of its own here cost two more statements a grant).
   */
  async authenticate(tx: Tx, clientId: string, clientSecret: string): Promise<ServiceAccount> {
    const account = await this.accounts.findByClientId(tx, clientId);
    if (!account) throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'unknown_client');
    if (!secretMatches(clientSecret, account.secretHash))
      throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'bad_secret');
    if (account.disabledAt)
      throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'client_disabled');
    return account;
  }

  /**
   * Whether these client credentials would authenticate now (known, right secret, not disabled), without a trace:
   * the rate limits use it to count a client that proves who it is by its client id, not by its address. The
   * grant itself still authenticates (and audits) on its own.
   */
  async authenticates(clientId: string, clientSecret: string): Promise<boolean> {
    return this.uow.run(async (tx) => {
      const account = await this.accounts.findByClientId(tx, clientId);
      return !!account && secretMatches(clientSecret, account.secretHash) && !account.disabledAt;
    });
  }

  /**
   * The old secret and every token issued with it stop working: the tokens at once here, in Airflow at its next
   * confirmation (within recheck_interval_seconds).
   */
  async rotateSecret(context: AuditContext, idOrName: string): Promise<IssuedClientSecret> {
    const account = await this.resolve(idOrName);
    const secret = newSecret();
    await this.uow.run(async (tx) => {
      const at = new Date();
      await this.accounts.update(tx, account.id, { secretHash: hashSecret(secret), secretRotatedAt: at });
      await this.accounts.endTokens(tx, account.id, SessionsEndedReason.SecretRotated, at);
      await this.audit.record(
        context,
        {
          type: 'service_account.secret_rotated',
          outcome: 'success',
          subjectType: 'service_account',
          subjectId: account.id,
          details: { name: account.name },
        },
        tx,
      );
    });
    return {
      id: account.id,
      name: account.name,
      clientId: account.clientId,
      clientSecret: secret,
      groups: account.groups,
      scopes: account.scopes,
      agent: account.agent,
    };
  }

  /** Disabling ends the account's tokens for good: once enabled again, the client asks for new ones. */
  async setDisabled(context: AuditContext, idOrName: string, disabled: boolean): Promise<ServiceAccount> {
    const account = await this.resolve(idOrName);
    await this.uow.run(async (tx) => {
      const at = new Date();
      await this.accounts.update(tx, account.id, { disabledAt: disabled ? at : null });
      if (disabled) await this.accounts.endTokens(tx, account.id, SessionsEndedReason.AccountDisabled, at);
      await this.audit.record(
        context,
        {
          type: disabled ? 'service_account.disabled' : 'service_account.enabled',
          outcome: 'success',
          subjectType: 'service_account',
          subjectId: account.id,
          details: { name: account.name },
        },
        tx,
      );
    });
    return (await this.findById(account.id)) ?? account;
  }
}
