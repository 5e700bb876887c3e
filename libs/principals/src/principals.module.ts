import { Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { TokensModule } from '@app/tokens';
import { WebAuthnModule } from '@app/webauthn';
import { AdminAccessPolicy } from './admin-access.policy';
import { PrincipalService } from './principal.service';
import { StepUpPolicy } from './step-up.policy';

/** Who is calling (re-read on every request) and what they may do: the service's authorization policy. */
@Module({
  imports: [AccountsModule, TokensModule, WebAuthnModule],
  providers: [PrincipalService, AdminAccessPolicy, StepUpPolicy],
  exports: [PrincipalService, AdminAccessPolicy, StepUpPolicy],
})
export class PrincipalsModule {}
