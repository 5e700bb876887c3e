import { Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { CliSignInModule } from '@app/cli-sign-in';
import { TokensModule } from '@app/tokens';
import { FederationModule } from '@app/federation';
import { WebAuthnModule } from '@app/webauthn';
import { AccessTokenGrants } from './access-token-grants';
import { ClientCredentialsGrant } from './client-credentials-grant';
import { CliCodeSignIn } from './cli-code-sign-in';
import { FederatedPasskeyStep } from './federated-passkey-step';
import { FederatedSignIn } from './federated-sign-in';
import { PasskeySignIn } from './passkey-sign-in';
import { SignedInRecorder } from './signed-in-recorder';

/** The two ways to get an access token (a passkey sign-in, the client-credentials grant), for the public controllers. */
@Module({
  imports: [CliSignInModule, AccountsModule, AuditModule, TokensModule, WebAuthnModule, FederationModule],
  providers: [
    AccessTokenGrants,
    SignedInRecorder,
    PasskeySignIn,
    CliCodeSignIn,
    ClientCredentialsGrant,
    FederatedSignIn,
    FederatedPasskeyStep,
  ],
  exports: [
    SignedInRecorder,
    PasskeySignIn,
    CliCodeSignIn,
    ClientCredentialsGrant,
    FederatedSignIn,
    FederatedPasskeyStep,
  ],
})
export class SignInModule {}
