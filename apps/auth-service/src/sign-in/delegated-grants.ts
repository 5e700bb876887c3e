import { Injectable } from '@nestjs/common';
import { ClientAuthentication, ServiceAccount, ServiceAccountsService, UsersService } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { DelegationHolders, DelegationsService } from '@app/delegations';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { TokenResponse, TokenVerifierService } from '@app/tokens';
import { AccessTokenGrants, DelegatedVia } from './access-token-grants';

/** RFC 8693 §3: the type of the token a token exchange issues (and of the subject token it accepts). */
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

export interface DelegatedTokenResponse extends TokenResponse {
  /** Bound to the agent's client authentication: useless without it; single use, rotated on every refresh. */
  refresh_token: string;
  issued_token_type?: string;
}

/**
 * The use cases that hand an agent a token for a person: the person's approval (the device flow or their Passkeys
 * page), a refresh (RFC 6749 §6, the agent authenticates), a token exchange for a sub-agent (RFC 8693). Each runs in
 * one unit of work: the delegation's change, the refresh token, the access token's audit event commit together.
 */
@Injectable()
export class DelegatedGrants {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly delegations: DelegationsService,
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly users: UsersService,
    private readonly verifier: TokenVerifierService,
    private readonly grants: AccessTokenGrants,
    private readonly audit: AuditService,
  ) {}

  /**
   * The person (the caller checked their fresh, user-verified passkey assertion) lets an agent act for them. Returns
   * the delegation and a first refresh token for the agent: on the Passkeys page the person hands it to the agent,
   * which redeems it with its own client authentication (like an authorization code: useless to anyone else).
   */
  async approve(
    context: AuditContext,
    input: { userId: string; passkeyId: string; agent: string; scope: string; days?: number },
  ): Promise<{ holders: DelegationHolders; refreshToken: string }> {
    const user = await this.users.findById(input.userId);
    if (!user) throw new AppError(ErrorCode.AccountUnknown, 'this account no longer exists');
    const agent = await this.serviceAccounts.resolve(input.agent).catch(() => {
      throw new AppError(ErrorCode.InvalidRequest, 'no such agent', 'not_an_agent');
    });
    return this.uow.run(async (tx) => {
      const holders = await this.delegations.approve(tx, context, { ...input, user, agent });
      return { holders, refreshToken: await this.delegations.newRefreshToken(tx, holders.delegation, agent.clientId) };
    });
  }

  /**
   * Inside the device grant's unit of work: the person's approval of an agent's device request (user-verified
   * passkey, checked when they approved) becomes a delegation for the scope the agent asked, and the agent's first
   * tokens. A refusal (person disabled or without groups, passkey revoked, agent no longer one) is the grant's:
   * `Unauthenticated` with a `device_` reason, which the device grant answers as invalid_grant.
   */
  async fromDeviceApproval(
    tx: Tx,
    context: AuditContext,
    approved: { userId: string | null; passkeyId: string | null; scope: string | null; days: number | null },
    agent: ServiceAccount,
  ): Promise<DelegatedTokenResponse> {
    const user = approved.userId ? await this.users.findById(approved.userId) : null;
    if (!user || !approved.passkeyId || !approved.scope)
      throw new AppError(ErrorCode.Unauthenticated, 'the approving account is gone', 'device_account_disabled');
    try {
      const created = await this.delegations.approve(tx, context, {
        user,
        passkeyId: approved.passkeyId,
        agent,
        scope: approved.scope,
        days: approved.days ?? undefined,
      });
      // Decided from current state: the approving passkey may have been revoked since the approval.
      const holders = await this.delegations.live(tx, created.delegation.id);
      return await this.tokensFor(tx, context, holders, 'device_code');
    } catch (error) {
      if (error instanceof AppError && error.code !== ErrorCode.SigningUnavailable)
        throw new AppError(ErrorCode.Unauthenticated, error.message, 'device_delegation_refused');
      throw error;
    }
  }

  /** grant_type=refresh_token: only the client the refresh token was issued to, authenticated, may use it. */
  async refresh(
    context: AuditContext,
    client: ClientAuthentication,
    refreshToken: string,
  ): Promise<DelegatedTokenResponse> {
    const outcome = await this.authenticated(context, client.clientId, 'refresh_token', () =>
      this.uow.run(
        async (tx): Promise<{ response: DelegatedTokenResponse } | { refused: string; agent: ServiceAccount }> => {
          const agent = await this.serviceAccounts.authenticate(tx, client);
          const redeemed = await this.delegations.redeemRefreshToken(tx, context, refreshToken, agent);
          if ('refused' in redeemed) return { refused: redeemed.refused, agent };
          return { response: await this.tokensFor(tx, context, redeemed.holders, 'refresh_token') };
        },
      ),
    );
    if ('response' in outcome) return outcome.response;
    // After the unit committed: a reused token's revocation must stand although the answer is an error.
    await this.refused(context, outcome.agent, 'refresh_token', outcome.refused);
    throw new AppError(
      ErrorCode.Forbidden,
      'the refresh token is invalid, used, or its delegation ended',
      'invalid_grant',
    );
  }

  /**
   * RFC 8693 token exchange: the sub-agent authenticates and presents a delegated access token (`subject_token`);
   * it gets a token for the same person, within a scope no wider and a delegation no longer than the parent's.
   */
  async exchange(
    context: AuditContext,
    client: ClientAuthentication,
    subject: { token: string; tokenType: string },
    scope: string | undefined,
  ): Promise<DelegatedTokenResponse> {
    if (subject.tokenType !== ACCESS_TOKEN_TYPE)
      throw new AppError(ErrorCode.InvalidRequest, `subject_token_type must be ${ACCESS_TOKEN_TYPE}`);
    let subAgent: ServiceAccount | undefined;
    try {
      return await this.authenticated(context, client.clientId, 'token_exchange', () =>
        this.uow.run(async (tx) => {
          subAgent = await this.serviceAccounts.authenticate(tx, client);
          const claims = await this.verifier.verify(subject.token).catch(() => {
            throw new AppError(ErrorCode.Forbidden, 'subject_token is not a valid access token', 'invalid_grant');
          });
          if (typeof claims.delegation_id !== 'string' || claims.act === undefined)
            throw new AppError(ErrorCode.Forbidden, 'subject_token is not a delegated token', 'invalid_grant');
          const child = await this.delegations.exchange(tx, context, {
            parentId: claims.delegation_id,
            subAgent,
            scope,
          });
          return {
            ...(await this.tokensFor(tx, context, child, 'token_exchange')),
            issued_token_type: ACCESS_TOKEN_TYPE,
          };
        }),
      );
    } catch (error) {
      if (subAgent && error instanceof AppError && error.code !== ErrorCode.Unauthenticated)
        await this.refused(context, subAgent, 'token_exchange', error.reason ?? error.message);
      throw error;
    }
  }

  private async tokensFor(
    tx: Tx,
    context: AuditContext,
    holders: DelegationHolders,
    via: DelegatedVia,
  ): Promise<DelegatedTokenResponse> {
    const token = await this.grants.issue(tx, context, { grant: 'delegation', holders, via });
    const refreshToken = await this.delegations.newRefreshToken(tx, holders.delegation, holders.agent.clientId);
    return { ...token, refresh_token: refreshToken };
  }

  /** Runs a grant; a client that fails to authenticate is audited as a refused token request (then rethrown). */
  private async authenticated<T>(
    context: AuditContext,
    clientId: string,
    via: 'refresh_token' | 'token_exchange',
    grant: () => Promise<T>,
  ): Promise<T> {
    try {
      return await grant();
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.Unauthenticated)
        await this.grants.refused(context, error.reason, clientId, via);
      throw error;
    }
  }

  private async refused(context: AuditContext, agent: ServiceAccount, via: DelegatedVia, reason: string) {
    await this.audit.record(
      { ...context, actorType: 'service_account', actorId: agent.id },
      {
        type: 'delegation.token_issued',
        outcome: 'failure',
        reason: reason.slice(0, 64),
        subjectType: 'service_account',
        subjectId: agent.id,
        details: { grant: via, agentClientId: agent.clientId },
      },
    );
  }
}
