import { Injectable } from '@nestjs/common';
import { ClientAuthentication, ServiceAccountsService } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { AccessTokenGrants } from './access-token-grants';

/** The audit reason (and OAuth error) for a requested scope the account does not hold. */
export const INVALID_SCOPE = 'invalid_scope';

/**
 * The OAuth client-credentials grant (RFC 6749 §4.4) for service accounts: authenticate the client, then issue the
 * token and its `token.issued` event in one unit of work. A refused client is audited and reported as an AppError
 * (the controller speaks OAuth's error format).
 */
@Injectable()
export class ClientCredentialsGrant {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly serviceAccounts: ServiceAccountsService,
    private readonly grants: AccessTokenGrants,
  ) {}

  /**
   * @param requestedScopes the request's `scope` (RFC 6749 §3.3), if any: each must be one of the account's scopes,
   * and the token then carries only those; without it the token carries all of the account's scopes.
   */
  async grant(
    context: AuditContext,
    client: ClientAuthentication,
    requestedScopes?: readonly string[],
  ): Promise<TokenResponse> {
    try {
      return await this.uow.run(async (tx) => {
        const account = await this.serviceAccounts.authenticate(tx, client);
        const beyond = (requestedScopes ?? []).filter((s) => !account.scopes.includes(s));
        if (beyond.length)
          throw new AppError(
            ErrorCode.Forbidden,
            `this client may not request the scope ${beyond.join(' ')}`,
            INVALID_SCOPE,
          );
        return this.grants.issue(tx, context, {
          grant: 'client_credentials',
          account,
          scopes: requestedScopes ?? account.scopes,
        });
      });
    } catch (error) {
      // A refused client or scope is audited as a refused grant; the service's own trouble is not the client's failure.
      if (error instanceof AppError && (error.code === ErrorCode.Unauthenticated || error.reason === INVALID_SCOPE))
        await this.grants.refused(context, error.reason, client.clientId);
      throw error;
    }
  }
}
