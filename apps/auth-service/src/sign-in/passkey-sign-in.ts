import { Injectable } from '@nestjs/common';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { AuditContext, AuditService } from '@app/audit';
import { AppError } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { SignInMethod } from '@app/accounts';
import { AssertionRefused, AuthenticationResponseJSON, AuthenticationService, VerifiedAssertion } from '@app/webauthn';
import { PersonGrantee, SignedInRecorder } from './signed-in-recorder';

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
    private readonly recorder: SignedInRecorder,
    private readonly audit: AuditService,
  ) {}

  options(username?: string, requireUserVerification = false): Promise<PublicKeyCredentialRequestOptionsJSON> {
    return this.authentication.options(username, requireUserVerification);
  }

  async signIn(context: AuditContext, response: AuthenticationResponseJSON): Promise<TokenResponse> {
    try {
      const assertion = await this.authentication.verify(context, response);
      const grantee = { grant: 'webauthn', login: assertion.login } as const;
      return await this.uow.run((tx) => this.complete(tx, context, assertion, 'passkey', grantee));
    } catch (error) {
      if (error instanceof AppError) await this.recordRefusal(context, response, error);
      throw error;
    }
  }

  /**
   * A verified assertion's sign-in, in the caller's unit of work: the passkey's counter moves on (or the sign-in is
   * refused), then the recorder records the sign-in as `method` and issues the token for `grantee`. The provider +
   * passkey step ends here too, with its own method and claims.
   */
  async complete(
    tx: Tx,
    context: AuditContext,
    assertion: VerifiedAssertion,
    method: SignInMethod,
    grantee: PersonGrantee,
  ): Promise<TokenResponse> {
    await this.authentication.record(tx, context, assertion);
    const { login, passkey, userVerified } = assertion;
    return this.recorder.record(tx, context, {
      method,
      at: login.authTime,
      grantee,
      loginEvent: { details: { passkeyId: passkey.id, username: login.username, userVerified } },
    });
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
