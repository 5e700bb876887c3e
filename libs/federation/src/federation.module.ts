import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FederatedLogin } from './federated-login.entity';
import { FederatedLoginRepository } from './federated-login.repository';
import { OidcFlow } from './oidc-flow.entity';
import { OidcFlowRepository } from './oidc-flow.repository';
import { FederationService } from './federation.service';
import { OidcRelyingParty } from './oidc-relying-party.service';
import { ProviderSession } from './provider-session.entity';
import { ProviderSessionRepository } from './provider-session.repository';
import { UsedLogoutToken } from './used-logout-token.entity';
import { UsedLogoutTokenRepository } from './used-logout-token.repository';

export const FEDERATION_ENTITIES = [OidcFlow, FederatedLogin, ProviderSession, UsedLogoutToken];

@Module({
  imports: [TypeOrmModule.forFeature(FEDERATION_ENTITIES)],
  providers: [
    OidcFlowRepository,
    FederatedLoginRepository,
    ProviderSessionRepository,
    UsedLogoutTokenRepository,
    OidcRelyingParty,
    FederationService,
  ],
  exports: [FederationService, OidcRelyingParty],
})
export class FederationModule {}
