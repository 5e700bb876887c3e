import { Injectable } from '@nestjs/common';
import { ServiceAccountsService } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { AppError } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { AccessTokenGrants } from './access-token-grants';

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

  async grant(context: AuditContext, clientId: string, clientSecret: string): Promise<TokenResponse> {
    try {
      return await this.uow.run(async (tx) => {
        const account = await this.serviceAccounts.authenticate(clientId, clientSecret);
        return this.grants.issue(tx, context, { grant: 'client_credentials', account });
      });
    } catch (error) {
      if (error instanceof AppError) await this.grants.refused(context, error.reason, clientId);
      throw error;
    }
  }
}
