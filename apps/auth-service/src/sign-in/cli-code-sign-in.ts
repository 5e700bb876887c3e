import { Injectable } from '@nestjs/common';
import { AuditContext, AuditService } from '@app/audit';
import { CliCodesService } from '@app/cli-sign-in';
import { AppError, ErrorCode } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { SignedInRecorder } from './signed-in-recorder';

/**
 * RFC 8176 values of a command line's token: the passkey kind and presence from the confirmation that created the
 * code, and `otp` for the one-time code it was carried by. Never `mfa`: a command line's token is not a fresh
 * user-verified sign-in, so it can never pass the step-up check.
 */
export function cliAmr(passkeyDeviceType: string): string[] {
  return [passkeyDeviceType === 'singleDevice' ? 'hwk' : 'swk', 'user', 'otp'];
}

/**
 * A person's command line signs in with their username and a one-time CLI code: in ONE unit of work the code is
 * used up (`cli_code.used`), the last sign-in recorded (method `cli`) and the token issued (`token.issued`). A refused code is audited here, once
 * (`cli_code.refused`), with the reason the caller is not told.
 */
@Injectable()
export class CliCodeSignIn {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly codes: CliCodesService,
    private readonly recorder: SignedInRecorder,
    private readonly audit: AuditService,
  ) {}

  async signIn(context: AuditContext, username: string, code: string): Promise<TokenResponse> {
    try {
      return await this.uow.run(async (tx) => {
        const { signIn, user, passkeyDeviceType } = await this.codes.redeem(tx, context, username, code);
        const login = {
          userId: user.id,
          username: user.username,
          displayName: user.displayName,
          groups: user.groups,
          passkeyId: signIn.passkeyId,
          // The person's session generation as read with the code: a later ending refuses this token too.
          sessionGeneration: user.sessionGeneration,
          // When the passkey confirmed the person (the code's creation), not when the code was pasted.
          authTime: signIn.createdAt,
          amr: cliAmr(passkeyDeviceType),
          cliSignInId: signIn.id,
        };
        // Last sign-in, and how (`airflow users list`, the access review): a command line signing in is one.
        // No `login` event: the code's redemption is audited as cli_code.* by the CLI sign-in library.
        const grantee = { grant: 'cli_code', login } as const;
        return this.recorder.record(tx, context, { method: 'cli', at: new Date(), grantee, loginEvent: null });
      });
    } catch (error) {
      if (error instanceof AppError && error.code === ErrorCode.Unauthenticated) {
        await this.audit.record(context, {
          type: 'cli_code.refused',
          outcome: 'failure',
          reason: error.reason,
          details: { username: username.slice(0, 64) },
        });
      }
      throw error;
    }
  }
}
