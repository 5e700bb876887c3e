import { Inject, Injectable } from '@nestjs/common';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { UsersService } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { FederatedLogin, FederationService, PasskeyStep } from '@app/federation';
import { UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import {
  AssertionRefused,
  AuthenticationResponseJSON,
  AuthenticationService,
  PasskeysService,
  RegistrationService,
} from '@app/webauthn';
import { PersonGrantee, SignedInRecorder } from './signed-in-recorder';
import { PasskeySignIn } from './passkey-sign-in';
import { FEDERATED_AMR } from './federated-sign-in';

export type PasskeyStepOptions =
  | { action: 'confirm'; options: PublicKeyCredentialRequestOptionsJSON }
  | { action: 'enroll'; options: PublicKeyCredentialCreationOptionsJSON };

/**
 * The passkey that completes a provider sign-in (FEDERATION_PASSKEY_REQUIRED_GROUPS): an assertion restricted to
 * that person's passkeys, or, on their first sign-in, the enrollment of one bound to the account the provider vouched
 * for (no invite: the provider vouches). Only then a token, with `amr` naming both factors and `idp`. The waiting
 * sign-in is taken on the first verify, so a failed or cancelled passkey step means starting again at the provider.
 */
@Injectable()
export class FederatedPasskeyStep {
  constructor(
    private readonly uow: UnitOfWork,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly federation: FederationService,
    private readonly users: UsersService,
    private readonly passkeys: PasskeysService,
    private readonly authentication: AuthenticationService,
    private readonly registration: RegistrationService,
    private readonly passkeySignIn: PasskeySignIn,
    private readonly recorder: SignedInRecorder,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async options(context: AuditContext, secret: string): Promise<PasskeyStepOptions> {
    const pending = await this.federation.pendingLogin(secret);
    const user = await this.users.getById(pending.userId);
    if (pending.action === 'confirm')
      return { action: 'confirm', options: await this.authentication.options(user.username) };
    await this.requireNoPasskey(pending);
    return {
      action: 'enroll',
      options: await this.registration.options(
        { ...context, actorType: 'user', actorId: user.id },
        { kind: 'user', userId: user.id },
      ),
    };
  }

  /** @param action the ceremony the browser ran: must be the one this sign-in waits for. */
  async verify(context: AuditContext, secret: string, action: PasskeyStep, response: unknown): Promise<TokenResponse> {
    let pending: FederatedLogin | undefined;
    try {
      pending = await this.federation.takePendingLogin(secret);
      if (pending.action !== action)
        throw new AppError(
          ErrorCode.InvalidRequest,
          `this sign-in waits for the passkey step "${pending.action}"; sign in again`,
          'federated_step_mismatch',
        );
      return pending.action === 'confirm'
        ? await this.confirm(context, pending, response as AuthenticationResponseJSON)
        : await this.enroll(context, pending, response);
    } catch (error) {
      if (error instanceof AppError) {
        await this.audit.record(context, {
          type: 'login',
          outcome: 'failure',
          reason: error.reason,
          subjectType: pending ? 'user' : null,
          subjectId: pending?.userId ?? null,
          details: { method: 'federated+passkey', step: pending?.action, idp: pending?.idpIssuer },
        });
      }
      throw error;
    }
  }

  private async confirm(
    context: AuditContext,
    pending: FederatedLogin,
    response: AuthenticationResponseJSON,
  ): Promise<TokenResponse> {
    const assertion = await this.authentication.verify(context, response);
    // The assertion's challenge was issued for this person (AuthenticationService refuses another owner's passkey
    // for it); checked here again because it is the whole point of this step.
    if (assertion.login.userId !== pending.userId)
      throw new AssertionRefused('sign-in failed: this passkey belongs to someone else', 'federated_user_mismatch');
    const { login } = assertion;
    const grantee: PersonGrantee = {
      grant: 'federated',
      login: { ...login, amr: [FEDERATED_AMR, ...login.amr], idp: pending.idpIssuer },
    };
    return this.uow.run((tx) => this.passkeySignIn.complete(tx, context, assertion, 'provider+passkey', grantee));
  }

  private async enroll(context: AuditContext, pending: FederatedLogin, response: unknown): Promise<TokenResponse> {
    await this.requireNoPasskey(pending);
    const userContext: AuditContext = { ...context, actorType: 'user', actorId: pending.userId };
    const passkey = await this.registration.verify(userContext, response as never, undefined, pending.userId);
    const user = await this.users.getById(pending.userId);
    const at = this.clock.now();
    // The registration verified user presence, and user verification when the service requires it (RFC 8176 mfa).
    const amr = [
      FEDERATED_AMR,
      passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk',
      'user',
      ...(this.config.webauthn.userVerification === 'required' ? ['mfa'] : []),
    ];
    const details = { username: user.username, idp: pending.idpIssuer, passkeyId: passkey.id, amr, enrolled: true };
    return this.uow.run((tx) =>
      this.recorder.record(tx, context, {
        method: 'provider+passkey',
        at,
        loginEvent: { details, context: userContext },
        grantee: {
          grant: 'federated',
          login: {
            userId: user.id,
            username: user.username,
            displayName: user.displayName,
            groups: user.groups,
            passkeyId: passkey.id,
            sessionGeneration: user.sessionGeneration,
            authTime: at,
            amr,
            idp: pending.idpIssuer,
          },
        },
      }),
    );
  }

  /** Enrolling without an invite is only for someone who has no passkey (see FederatedSignIn.callback). */
  private async requireNoPasskey(pending: FederatedLogin): Promise<void> {
    if ((await this.passkeys.listForUser(pending.userId, false)).length > 0) {
      throw new AppError(
        ErrorCode.Forbidden,
        'this account already has a passkey: sign in again and confirm with it',
        'federated_enroll_has_passkey',
      );
    }
  }
}
