import { Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { TokensModule } from '@app/tokens';
import { WebAuthnModule } from '@app/webauthn';
import { AuthenticationController } from '../public/authentication.controller';
import { OAuthController } from '../public/oauth.controller';
import { AccessTokenGrants } from './access-token-grants';
import { ClientCredentialsGrant } from './client-credentials-grant';
import { PasskeySignIn } from './passkey-sign-in';

/** The two ways to get an access token: a passkey sign-in and the client-credentials grant. */
@Module({
  imports: [AccountsModule, AuditModule, TokensModule, WebAuthnModule],
  controllers: [AuthenticationController, OAuthController],
  providers: [AccessTokenGrants, PasskeySignIn, ClientCredentialsGrant],
})
export class SignInModule {}
