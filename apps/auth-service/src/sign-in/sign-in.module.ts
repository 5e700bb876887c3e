import { Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { CliSignInModule } from '@app/cli-sign-in';
import { DelegationsModule } from '@app/delegations';
import { TokensModule } from '@app/tokens';
import { FederationModule } from '@app/federation';
import { WebAuthnModule } from '@app/webauthn';
import { AccessTokenGrants } from './access-token-grants';
import { ClientCredentialsGrant } from './client-credentials-grant';
import { DelegatedGrants } from './delegated-grants';
import { CliCodeSignIn } from './cli-code-sign-in';
import { CommandLineSignIn } from './command-line-sign-in';
import { DeviceCodeGrant } from './device-code-grant';
import { FederatedPasskeyStep } from './federated-passkey-step';
import { FederatedSignIn } from './federated-sign-in';
import { PasskeySignIn } from './passkey-sign-in';
import { SignedInRecorder } from './signed-in-recorder';

/** The ways to get an access token (passkey, provider, CLI code, device code, client credentials), for the public controllers. */
@Module({
  imports: [
    CliSignInModule,
    DelegationsModule,
    AccountsModule,
    AuditModule,
    TokensModule,
    WebAuthnModule,
    FederationModule,
  ],
  providers: [
    AccessTokenGrants,
    SignedInRecorder,
    PasskeySignIn,
    CommandLineSignIn,
    CliCodeSignIn,
    DeviceCodeGrant,
    ClientCredentialsGrant,
    DelegatedGrants,
    FederatedSignIn,
    FederatedPasskeyStep,
  ],
  exports: [
    SignedInRecorder,
    PasskeySignIn,
    CliCodeSignIn,
    DeviceCodeGrant,
    ClientCredentialsGrant,
    DelegatedGrants,
    FederatedSignIn,
    FederatedPasskeyStep,
  ],
})
export class SignInModule {}
