import { randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { AuditContext, AuditService } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { CLOCK, Clock } from '@app/config';
import { ClientAssertionVerifier } from './client-assertion';
import { ClientAuthentication } from './client-authentication';
import { ClientJwks, parseClientJwks } from './client-keys';
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
  /** Shown once: only its hash is stored. Absent for an account created with keys (private_key_jwt) only. */
  clientSecret?: string;
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
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly assertions: ClientAssertionVerifier,
  ) {}

  /**
   * With `jwks`, the account authenticates with a private-key JWT and gets no usable secret (its hash is of one never
   * shown); `rotate-secret` gives it one later if it needs both.
   */
  async create(
    context: AuditContext,
    input: { name: string; groups?: string[]; scopes?: string[]; agent?: boolean; jwks?: unknown },
  ): Promise<IssuedClientSecret> {
    const name = input.name.trim();
    if (!NAME.test(name))
      throw new AppError(ErrorCode.InvalidRequest, 'name must be 1-128 characters: letters, digits and . _ -');
    const jwks = input.jwks === undefined ? null : await parseClientJwks(input.jwks);
    const secret = newSecret();
    const now = this.clock.now();
    const account = Object.assign(new ServiceAccount(), {
      id: randomUUID(),
      name,
      clientId: `sa_${randomBytes(12).toString('base64url')}`,
      secretHash: hashSecret(secret),
      jwks,
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
            ...keysDetails(jwks),
          },
        },
        tx,
      );
    });
    return {
      id: account.id,
      name,
      clientId: account.clientId,
      ...(jwks ? {} : { clientSecret: secret }),
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
   * Returns the account when the client proves it is this enabled account (its secret, or a client assertion signed
   * by one of its keys, whose jti is used up here); otherwise throws with a reason for the audit trail (the client
   * only ever sees "invalid_client"). Runs in the caller's unit of work: the grant reads the account, uses up the
   * assertion and records its token in one transaction (a unit of its own here cost two more statements a grant).
   */
  async authenticate(tx: Tx, client: ClientAuthentication): Promise<ServiceAccount> {
    const account = await this.accounts.findByClientId(tx, client.clientId);
    if (!account) throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'unknown_client');
    if ('secret' in client.proof) {
      if (!secretMatches(client.proof.secret, account.secretHash))
        throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'bad_secret');
    } else {
      await this.assertions.accept(tx, account, await this.assertions.verify(account, client.proof.assertion));
    }
    if (account.disabledAt)
      throw new AppError(ErrorCode.Unauthenticated, 'client authentication failed', 'client_disabled');
    return account;
  }

  /**
   * Whether this client authentication would succeed now (known, right secret or a valid assertion, not disabled),
   * without a trace and without using up the assertion: the rate limits use it to count a client that proves who it
   * is by its client id, not by its address. The grant itself still authenticates (and audits) on its own.
   */
  async authenticates(client: ClientAuthentication): Promise<boolean> {
    const account = await this.uow.run((tx) => this.accounts.findByClientId(tx, client.clientId));
    if (!account || account.disabledAt) return false;
    if ('secret' in client.proof) return secretMatches(client.proof.secret, account.secretHash);
    return this.assertions.verify(account, client.proof.assertion).then(
      () => true,
      () => false,
    );
  }

  /**
   * Replaces the account's public keys (a key roll-over lists the old and the new key, then the new one alone).
   * Tokens already issued stay valid until they expire (minutes); to end them at once, disable the account.
   */
  async setKeys(context: AuditContext, idOrName: string, input: unknown): Promise<ServiceAccount> {
    const jwks = await parseClientJwks(input);
    const account = await this.resolve(idOrName);
    await this.uow.run(async (tx) => {
      await this.accounts.update(tx, account.id, { jwks });
      await this.audit.record(
        context,
        {
          type: 'service_account.keys_replaced',
          outcome: 'success',
          subjectType: 'service_account',
          subjectId: account.id,
          details: {
            name: account.name,
            ...keysDetails(jwks),
            previousKids: (account.jwks?.keys ?? []).map((k) => k.kid),
          },
        },
        tx,
      );
    });
    return (await this.findById(account.id)) ?? account;
  }

  /** Used client assertions past their exp are refused as expired anyway: only keeps the table small. */
  purgeUsedAssertions(): Promise<number> {
    return this.uow.run((tx) => this.assertions.purgeExpired(tx));
  }

  /**
   * The old secret and every token issued with it stop working: the tokens at once here, in Airflow at its next
   * confirmation (within recheck_interval_seconds).
   */
  async rotateSecret(context: AuditContext, idOrName: string): Promise<IssuedClientSecret> {
    const account = await this.resolve(idOrName);
    const secret = newSecret();
    await this.uow.run(async (tx) => {
      const at = this.clock.now();
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
      const at = this.clock.now();
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

/** What the audit trail keeps of a key set: which keys (kid, type), never the key material itself. */
function keysDetails(jwks: ClientJwks | null): { keys?: { kid: string; kty: string }[] } {
  return jwks ? { keys: jwks.keys.map((key) => ({ kid: key.kid, kty: key.kty })) } : {};
}
