import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import type { Principal } from './principal';

/** RFC 8176 value the service puts in `amr` when the authenticator verified the person (PIN, biometric). */
const USER_VERIFIED_AMR = 'mfa';

/**
 * Step-up: a person making a sensitive change (an admin mutation, adding a passkey) must have signed in with a
 * user-verified passkey assertion within WEBAUTHN_STEP_UP_MAX_AGE_SECONDS. Whatever WEBAUTHN_USER_VERIFICATION says
 * for everyday sign-in: "preferred" there lets people without a PIN sign in, it must not let an unattended,
 * unlocked laptop or a stolen session change who may sign in.
 */
@Injectable()
export class StepUpPolicy {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** @param action what the person is doing, for the message ("adding a passkey"). */
  requireFreshVerifiedSignIn(principal: Principal, action: string): void {
    if (principal.kind !== 'user')
      throw new AppError(ErrorCode.Forbidden, `only a person can confirm ${action} with a passkey`);
    const maxAge = this.config.webauthn.stepUpMaxAgeSeconds;
    const authTime = principal.token.auth_time;
    const age = typeof authTime === 'number' ? this.clock.now().getTime() / 1000 - authTime : Infinity;
    if (!(age <= maxAge)) {
      throw new AppError(
        ErrorCode.StepUpRequired,
        `confirm with your passkey first: ${action} needs a sign-in from the last ${maxAge} seconds`,
        'step_up_stale',
      );
    }
    const amr = Array.isArray(principal.token.amr) ? principal.token.amr : [];
    if (!amr.includes(USER_VERIFIED_AMR)) {
      throw new AppError(
        ErrorCode.StepUpRequired,
        `confirm with your passkey first: ${action} needs a sign-in verified with your PIN or biometrics`,
        'step_up_unverified',
      );
    }
  }
}
