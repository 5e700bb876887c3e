import { Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { TokensModule } from '@app/tokens';
import { WebAuthnModule } from '@app/webauthn';
import { AccessTokenGrants } from './access-token-grants';
import { ClientCredentialsGrant } from './client-credentials-grant';
import { PasskeySignIn } from './passkey-sign-in';

/** The two ways to get an access token (a passkey sign-in, the client-credentials grant), for the public controllers. */
@Module({
  imports: [AccountsModule, AuditModule, TokensModule, WebAuthnModule],
  providers: [AccessTokenGrants, PasskeySignIn, ClientCredentialsGrant],
  exports: [PasskeySignIn, ClientCredentialsGrant],
})
export class SignInModule {}
