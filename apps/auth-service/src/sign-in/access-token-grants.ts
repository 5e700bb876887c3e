import { Injectable } from '@nestjs/common';
import { ServiceAccount } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { Tx } from '@app/persistence';
import { ActorClaim, TokenIssuerService, TokenResponse, UserTokenSubject } from '@app/tokens';
import { DelegationHolders } from '@app/delegations';
import { VerifiedLogin } from '@app/webauthn';

/** How a person's command line got its token: a one-time CLI code, or a device code they approved (RFC 8628). */
export type CommandLineGrant = 'cli_code' | 'device_code';

/** Who a token is for: a person after a verified passkey sign-in, or a service account after client authentication. */
export type Grantee =
  | { grant: 'webauthn'; login: VerifiedLogin }
  /** A person the OpenID provider vouched for (`idp`), with or without a passkey confirming it (`passkeyId`). */
  | { grant: 'federated'; login: UserTokenSubject & { idp: string } }
  /** A person's command line, signed in with a one-time code they created after a passkey confirmation. */
  | { grant: CommandLineGrant; login: UserTokenSubject & { passkeyId: string; cliSignInId: string } }
  | { grant: 'client_credentials'; account: ServiceAccount; scopes: readonly string[] }
  /** An agent acting for a person under a live delegation (how it got here: `via`). */
  | { grant: 'delegation'; holders: DelegationHolders; via: DelegatedVia };

export type DelegatedVia = 'approval' | 'refresh_token' | 'token_exchange' | 'device_code';

/** `act` of a delegation: its agent, nesting the parent's agent for a sub-agent (RFC 8693 §4.1). */
function actOf(holders: DelegationHolders): ActorClaim {
  const parentAgent = holders.parent?.agentClientId;
  return parentAgent
    ? { sub: holders.delegation.agentClientId, act: { sub: parentAgent } }
    : { sub: holders.delegation.agentClientId };
}

/**
 * The one place an access token is handed out and the one writer of `token.issued`, for both grants.
 * `issue` runs inside the grant's unit of work: the token leaves only if its event (and the sign-in it ends) commits.
 */
@Injectable()
export class AccessTokenGrants {
  constructor(
    private readonly tokens: TokenIssuerService,
    private readonly audit: AuditService,
  ) {}

  async issue(tx: Tx, context: AuditContext, grantee: Grantee): Promise<TokenResponse> {
    if (grantee.grant === 'delegation') return this.issueDelegated(tx, context, grantee.holders, grantee.via);
    if (grantee.grant !== 'client_credentials') {
      const { login, grant } = grantee;
      const token = await this.tokens.issueUserToken(login);
      const extra =
        grant === 'federated'
          ? { amr: login.amr }
          : grant === 'cli_code' || grant === 'device_code'
            ? { amr: login.amr, cliSignInId: login.cliSignInId }
            : {};
      await this.audit.record(
        { ...context, actorType: 'user', actorId: login.userId },
        {
          type: 'token.issued',
          outcome: 'success',
          subjectType: 'user',
          subjectId: login.userId,
          details: { grant, ...extra, expiresIn: token.expires_in },
        },
        tx,
      );
      return token;
    }
    const { account, scopes } = grantee;
    const token = await this.tokens.issueServiceToken({
      accountId: account.id,
      name: account.name,
      clientId: account.clientId,
      groups: account.groups,
      scopes,
      sessionGeneration: account.sessionGeneration,
    });
    await this.audit.record(
      { ...context, actorType: 'service_account', actorId: account.id },
      {
        type: 'token.issued',
        outcome: 'success',
        subjectType: 'service_account',
        subjectId: account.id,
        details: { grant: 'client_credentials', clientId: account.clientId, scopes, expiresIn: token.expires_in },
      },
      tx,
    );
    return token;
  }

  /** Writes `delegation.token_issued` (person, agent, scope): the delegation's trail of every token under it. */
  private async issueDelegated(
    tx: Tx,
    context: AuditContext,
    holders: DelegationHolders,
    via: DelegatedVia,
  ): Promise<TokenResponse> {
    const { delegation, user, agent } = holders;
    const token = await this.tokens.issueDelegatedToken({
      userId: user.id,
      username: user.username,
      displayName: user.displayName,
      groups: user.groups,
      sessionGeneration: user.sessionGeneration,
      passkeyId: delegation.passkeyId,
      delegationId: delegation.id,
      scope: delegation.scope,
      clientId: agent.clientId,
      agentName: agent.name,
      act: actOf(holders),
      notAfter: delegation.expiresAt,
    });
    await this.audit.record(
      { ...context, actorType: 'service_account', actorId: agent.id },
      {
        type: 'delegation.token_issued',
        outcome: 'success',
        subjectType: 'delegation',
        subjectId: delegation.id,
        details: {
          grant: via,
          person: user.username,
          agent: agent.name,
          agentClientId: agent.clientId,
          scope: delegation.scope,
          expiresIn: token.expires_in,
        },
      },
      tx,
    );
    return token;
  }

  /**
   * A token request refused at client authentication or at its grant (a refused passkey sign-in is a `login`
   * failure), recorded outside any unit of work (nothing of the request commits).
   */
  async refused(
    context: AuditContext,
    reason: string,
    clientId: string,
    grant: 'client_credentials' | 'device_code' | 'refresh_token' | 'token_exchange' = 'client_credentials',
  ): Promise<void> {
    await this.audit.record(context, {
      type: 'token.issued',
      outcome: 'failure',
      reason,
      subjectType: grant === 'device_code' ? null : 'service_account',
      details: { clientId: clientId.slice(0, 64), grant },
    });
  }
}
