import { Injectable } from '@nestjs/common';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AuditContext, AuditService } from '@app/audit';
import { AppError } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { AssertionRefused, AuthenticationResponseJSON, AuthenticationService } from '@app/webauthn';
import { AccessTokenGrants } from './access-token-grants';

/**
 * Signing in with a passkey, start to end: verify the assertion (WebAuthn §7.2), then in ONE unit of work record the
 * sign-in (counter compare-and-set, last login, `login` event) and issue the access token (`token.issued`). Every
 * refusal is audited here, once.
 */
@Injectable()
export class PasskeySignIn {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly authentication: AuthenticationService,
    private readonly grants: AccessTokenGrants,
    private readonly audit: AuditService,
  ) {}

  options(username?: string, requireUserVerification = false): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.authentication.options(username, requireUserVerification);
  }

  async signIn(context: AuditContext, response: AuthenticationResponseJSON): Promise<TokenResponse> {
    try {
      const assertion = await this.authentication.verify(context, response);
      return await this.uow.run(async (tx) => {
        await this.authentication.record(tx, context, assertion);
        return this.grants.issue(tx, context, { grant: 'webauthn', login: assertion.login });
      });
    } catch (error) {
      if (error instanceof AppError) await this.recordRefusal(context, response, error);
      throw error;
    }
  }

  private async recordRefusal(
    context: AuditContext,
    response: AuthenticationResponseJSON,
    error: AppError,
  ): Promise<void> {
    const subject = error instanceof AssertionRefused ? error.subject : {};
    await this.audit.record(context, {
      type: 'login',
      outcome: 'failure',
      reason: error.reason,
      subjectType: subject.userId ? 'user' : null,
      subjectId: subject.userId ?? null,
      details: {
        passkeyId: subject.passkeyId,
        credentialId: typeof response?.id === 'string' ? response.id.slice(0, 64) : undefined,
      },
    });
  }
}
