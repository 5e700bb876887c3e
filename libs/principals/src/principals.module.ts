import { Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { TokensModule } from '@app/tokens';
import { WebAuthnModule } from '@app/webauthn';
import { AdminAccessPolicy } from './admin-access.policy';
import { PrincipalService } from './principal.service';

/** Who is calling (re-read on every request) and what they may do: the service's authorization policy. */
@Module({
  imports: [AccountsModule, TokensModule, WebAuthnModule],
  providers: [PrincipalService, AdminAccessPolicy],
  exports: [PrincipalService, AdminAccessPolicy],
})
export class PrincipalsModule {}
