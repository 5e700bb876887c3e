import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { ServiceAccount, User } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { canonicalDagScope, dagScopeWithin, DagScopeError, parseDagScope } from './dag-scope';
import { Delegation } from './delegation.entity';
import { DelegationRefreshToken } from './delegation-refresh-token.entity';
import { DelegationHolders, DelegationRepository } from './delegation.repository';
import { delegationState } from './delegation-state';

/** Refresh tokens start with this so secret scanners (and people) recognise one. */
export const REFRESH_TOKEN_PREFIX = 'afdr_';
/** How deep `act` may nest: an agent (1) and one sub-agent under it (2). */
export const MAX_DELEGATION_DEPTH = 2;

/** The reasons the token endpoint turns into RFC 6749 errors (`invalid_scope`, else `invalid_grant`). */
export const DelegationRefusal = {
  InvalidScope: 'invalid_scope',
  InvalidGrant: 'invalid_grant',
} as const;

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

function scopeOrThrow(text: string): string {
  try {
    return canonicalDagScope(text);
  } catch (error) {
    if (error instanceof DagScopeError)
      throw new AppError(ErrorCode.InvalidRequest, error.message, DelegationRefusal.InvalidScope);
    throw error;
  }
}

/** What the audit trail says of a delegation: person, agent and scope, never a token. */
function described(h: Pick<DelegationHolders, 'delegation' | 'user' | 'agent'>): Record<string, unknown> {
  return {
    delegationId: h.delegation.id,
    person: h.user.username,
    agent: h.agent.name,
    agentClientId: h.agent.clientId,
    scope: h.delegation.scope,
    expiresAt: h.delegation.expiresAt.toISOString(),
    ...(h.delegation.parentId ? { parentId: h.delegation.parentId } : {}),
  };
}

/**
 * Delegations: a person's user-verified approval that an agent acts for them within a `dag:` scope, for at most
 * DELEGATION_MAX_DAYS; sub-agents' narrower shares; refresh tokens bound to the client they were issued to, rotated
 * on use, a reused one revoking the delegation. Every method that changes state runs in the caller's unit of work
 * (the grant that hands out a token) or its own, and writes its audit event there.
 */
@Injectable()
export class DelegationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repository: DelegationRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  now(): Date {
    return this.clock.now();
  }

  /**
   * Records the person's approval. The caller checked the passkey assertion (fresh and user-verified) and
   * authenticated nothing else: the agent is named by the person (or by the device request it made).
   */
  async approve(
    tx: Tx,
    context: AuditContext,
    input: { user: User; passkeyId: string; agent: ServiceAccount; scope: string; days?: number },
  ): Promise<DelegationHolders> {
    const { user, agent } = input;
    if (user.disabledAt) throw new AppError(ErrorCode.AccountDisabled, 'this account is disabled');
    // No group, no Airflow role: nothing to delegate (Airflow intersects with the role it maps the groups to).
    if (!user.groups.length)
      throw new AppError(ErrorCode.Forbidden, 'you have no Airflow role, so there is nothing to delegate', 'no_role');
    if (!agent.agent || agent.disabledAt)
      throw new AppError(ErrorCode.InvalidRequest, 'this client is not an enabled agent', 'not_an_agent');
    const maxDays = this.config.delegationMaxDays;
    const days = input.days ?? maxDays;
    if (!Number.isInteger(days) || days < 1 || days > maxDays)
      throw new AppError(ErrorCode.InvalidRequest, `days must be a whole number from 1 to ${maxDays}`);
    const now = this.clock.now();
    const delegation = Object.assign(new Delegation(), {
      id: randomUUID(),
      userId: user.id,
      agentId: agent.id,
      agentClientId: agent.clientId,
      scope: scopeOrThrow(input.scope),
      passkeyId: input.passkeyId,
      parentId: null,
      depth: 1,
      personGeneration: user.sessionGeneration,
      agentGeneration: agent.sessionGeneration,
      createdAt: now,
      expiresAt: new Date(now.getTime() + days * 86_400_000),
      revokedAt: null,
      revokedBy: null,
      revokedReason: null,
    });
    await this.repository.insert(tx, delegation);
    const holders = await this.repository.holders(tx, delegation.id);
    if (!holders) throw new Error('a delegation just inserted is missing');
    await this.audit.record(
      { ...context, actorType: 'user', actorId: user.id },
      {
        type: 'delegation.approved',
        outcome: 'success',
        subjectType: 'delegation',
        subjectId: delegation.id,
        details: { ...described(holders), passkeyId: input.passkeyId },
      },
      tx,
    );
    return holders;
  }

  /**
   * A sub-agent's narrower share of a live delegation (RFC 8693 token exchange): never wider (invalid_scope), never
   * longer, never deeper than MAX_DELEGATION_DEPTH. Without a scope the share is the parent's whole scope.
   */
  async exchange(
    tx: Tx,
    context: AuditContext,
    input: { parentId: string; subAgent: ServiceAccount; scope?: string },
  ): Promise<DelegationHolders> {
    const parent = await this.live(tx, input.parentId);
    if (parent.delegation.depth + 1 > MAX_DELEGATION_DEPTH)
      throw new AppError(
        ErrorCode.Forbidden,
        `a delegation nests at most ${MAX_DELEGATION_DEPTH} agents deep`,
        DelegationRefusal.InvalidGrant,
      );
    if (!input.subAgent.agent)
      throw new AppError(ErrorCode.Forbidden, 'only an agent may act for a person', DelegationRefusal.InvalidGrant);
    const scope = input.scope === undefined ? parent.delegation.scope : scopeOrThrow(input.scope);
    if (!dagScopeWithin(parseDagScope(scope), parseDagScope(parent.delegation.scope)))
      throw new AppError(
        ErrorCode.Forbidden,
        'the requested scope is not within the delegation it is exchanged from',
        DelegationRefusal.InvalidScope,
      );
    const now = this.clock.now();
    const child = Object.assign(new Delegation(), {
      ...parent.delegation,
      id: randomUUID(),
      agentId: input.subAgent.id,
      agentClientId: input.subAgent.clientId,
      scope,
      parentId: parent.delegation.id,
      depth: parent.delegation.depth + 1,
      agentGeneration: input.subAgent.sessionGeneration,
      createdAt: now,
      expiresAt: parent.delegation.expiresAt,
    });
    await this.repository.insert(tx, child);
    const holders = await this.repository.holders(tx, child.id);
    if (!holders) throw new Error('a delegation just inserted is missing');
    await this.audit.record(
      { ...context, actorType: 'service_account', actorId: input.subAgent.id },
      {
        type: 'delegation.exchanged',
        outcome: 'success',
        subjectType: 'delegation',
        subjectId: child.id,
        details: { ...described(holders), parentAgent: parent.agent.name },
      },
      tx,
    );
    return holders;
  }

  /** A live delegation with its holders, or invalid_grant naming why not. */
  async live(tx: Tx, id: string): Promise<DelegationHolders> {
    const holders = await this.repository.holders(tx, id);
    if (!holders) throw new AppError(ErrorCode.Forbidden, 'no such delegation', DelegationRefusal.InvalidGrant);
    const { state, endedBecause } = delegationState(holders, this.clock.now());
    if (state !== 'live')
      throw new AppError(
        ErrorCode.Forbidden,
        `the delegation is ${state}${endedBecause ? ` (${endedBecause.replace(/_/g, ' ')})` : ''}`,
        DelegationRefusal.InvalidGrant,
      );
    return holders;
  }

  /** A new refresh token for the delegation, usable once and only with `clientId`'s authentication. */
  async newRefreshToken(tx: Tx, delegation: Delegation, clientId: string): Promise<string> {
    const token = REFRESH_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.repository.insertRefreshToken(
      tx,
      Object.assign(new DelegationRefreshToken(), {
        tokenHash: hash(token),
        delegationId: delegation.id,
        clientId,
        createdAt: this.clock.now(),
        usedAt: null,
      }),
    );
    return token;
  }

  /**
   * Uses a refresh token presented by `client` (already authenticated). Returns the live delegation, or a refusal
   * reason. A token used before is a stolen copy or a replay: its delegation is revoked (in this unit of work, so
   * the caller must commit before it answers invalid_grant, hence a value and not a throw).
   */
  async redeemRefreshToken(
    tx: Tx,
    context: AuditContext,
    token: string,
    client: ServiceAccount,
  ): Promise<{ holders: DelegationHolders } | { refused: string }> {
    const tokenHash = hash(token);
    const row = await this.repository.findRefreshToken(tx, tokenHash);
    if (!row) return { refused: 'unknown_refresh_token' };
    // Bound to the client it was issued to: another client's authentication never uses (nor burns) it.
    if (row.clientId !== client.clientId) return { refused: 'refresh_token_of_another_client' };
    const used = await this.repository.useRefreshToken(tx, tokenHash, this.clock.now());
    if (!used) {
      await this.revokeIn(tx, context, row.delegationId, `client:${client.clientId}`, 'refresh_token_reuse');
      return { refused: 'refresh_token_reused' };
    }
    try {
      return { holders: await this.live(tx, row.delegationId) };
    } catch (error) {
      if (error instanceof AppError) return { refused: error.message };
      throw error;
    }
  }

  /** Revokes a delegation (and its sub-agents' shares); by the person (`userId` set: only their own) or an admin. */
  async revoke(context: AuditContext, id: string, by: { userId?: string; who: string }): Promise<DelegationHolders> {
    return this.uow.run(async (tx) => {
      const holders = await this.repository.holders(tx, id);
      if (!holders || (by.userId !== undefined && holders.user.id !== by.userId))
        throw new AppError(ErrorCode.NotFound, 'no such delegation');
      if (holders.delegation.revokedAt) throw new AppError(ErrorCode.Conflict, 'this delegation was revoked already');
      await this.revokeIn(tx, context, id, by.who, by.userId !== undefined ? 'person' : 'admin');
      return (await this.repository.holders(tx, id)) ?? holders;
    });
  }

  private async revokeIn(tx: Tx, context: AuditContext, id: string, who: string, reason: string): Promise<void> {
    const ids = await this.repository.revoke(tx, id, this.clock.now(), who, reason);
    for (const revokedId of ids) {
      const holders = await this.repository.holders(tx, revokedId);
      if (!holders) continue;
      await this.audit.record(
        context,
        {
          type: 'delegation.revoked',
          outcome: 'success',
          reason,
          subjectType: 'delegation',
          subjectId: revokedId,
          details: described(holders),
        },
        tx,
      );
    }
  }

  forUser(userId: string): Promise<DelegationHolders[]> {
    return this.uow.run((tx) => this.repository.forUser(tx, userId));
  }

  forAgent(agentId: string): Promise<DelegationHolders[]> {
    return this.uow.run((tx) => this.repository.forAgent(tx, agentId));
  }

  unrevoked(): Promise<DelegationHolders[]> {
    return this.uow.run((tx) => this.repository.unrevoked(tx, this.clock.now()));
  }

  /** Delegation id → when its agent last refreshed (absent: never), for the admin's list. */
  lastRefreshed(ids: readonly string[]): Promise<Map<string, Date>> {
    return ids.length
      ? this.uow.run((tx) => this.repository.lastRefreshed(tx, ids))
      : Promise.resolve(new Map<string, Date>());
  }

  async find(id: string): Promise<DelegationHolders> {
    const holders = await this.uow.run((tx) => this.repository.holders(tx, id));
    if (!holders) throw new AppError(ErrorCode.NotFound, 'no such delegation');
    return holders;
  }

  /** The state now, for views and Airflow's status read. */
  state(holders: DelegationHolders) {
    return delegationState(holders, this.clock.now());
  }
}
