import { Inject, Injectable } from '@nestjs/common';
import { User } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { CliSignIn } from '@app/cli-sign-in';
import { Tx } from '@app/persistence';
import { TokenResponse } from '@app/tokens';
import { CLOCK, Clock } from '@app/config';
import { CommandLineGrant } from './access-token-grants';
import { SignedInRecorder } from './signed-in-recorder';

/**
 * RFC 8176 values of a command line's token: the passkey kind and presence from the confirmation that created the
 * code, and `otp` for the one-time code it was carried by. Never `mfa`: a command line's token is not a fresh
 * user-verified sign-in, so it can never pass the step-up check.
 */
export function cliAmr(passkeyDeviceType: string): string[] {
  return [passkeyDeviceType === 'singleDevice' ? 'hwk' : 'swk', 'user', 'otp'];
}

/** A command line that was just signed in (its `cli_sign_ins` row), its person and confirming passkey, as they are now. */
export interface SignedInCommandLine {
  signIn: CliSignIn;
  user: User;
  passkeyDeviceType: string;
}

/**
 * The one writer of "a person's command line signed in", for every way it happens (a one-time CLI code, an approved
 * device code): inside the caller's unit of work, hands the person and the token naming the command line to the one
 * "signed in" recorder (last sign-in with method `cli`, `token.issued`).
 */
@Injectable()
export class CommandLineSignIn {
  constructor(
    private readonly recorder: SignedInRecorder,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async complete(
    tx: Tx,
    context: AuditContext,
    { signIn, user, passkeyDeviceType }: SignedInCommandLine,
    grant: CommandLineGrant,
  ): Promise<TokenResponse> {
    const login = {
      userId: user.id,
      username: user.username,
      displayName: user.displayName,
      groups: user.groups,
      passkeyId: signIn.passkeyId,
      // The person's session generation as read now: a later ending refuses this token too.
      sessionGeneration: user.sessionGeneration,
      // When the passkey confirmed the person (the code's creation, the device approval), not when it was used.
      authTime: signIn.createdAt,
      amr: cliAmr(passkeyDeviceType),
      cliSignInId: signIn.id,
    };
    // Last sign-in, and how (`airflow users list`, the access review): a command line signing in is one. No `login`
    // event: the code's redemption or the device approval is audited by the CLI sign-in library's own events.
    return this.recorder.record(tx, context, {
      method: 'cli',
      at: this.clock.now(),
      grantee: { grant, login },
      loginEvent: null,
    });
  }
}
