import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { AuthenticationService } from './authentication.service';
import { Challenge } from './challenge.entity';
import { ChallengeRepository } from './challenge.repository';
import { ChallengeStoreService } from './challenge-store.service';
import { Passkey } from './passkey.entity';
import { PasskeyRepository } from './passkey.repository';
import { PasskeysService } from './passkeys.service';
import { RegistrationService } from './registration.service';
import { AuthenticatorPolicyService, mdsCatalogProvider, PolicyComplianceRepository } from './policy';

export const WEBAUTHN_ENTITIES = [Passkey, Challenge];

@Module({
  imports: [TypeOrmModule.forFeature(WEBAUTHN_ENTITIES), AccountsModule, AuditModule],
  providers: [
    ChallengeRepository,
    PasskeyRepository,
    ChallengeStoreService,
    RegistrationService,
    AuthenticationService,
    PasskeysService,
    mdsCatalogProvider,
    PolicyComplianceRepository,
    AuthenticatorPolicyService,
  ],
  exports: [
    ChallengeStoreService,
    RegistrationService,
    AuthenticationService,
    PasskeysService,
    AuthenticatorPolicyService,
  ],
})
export class WebAuthnModule {}
