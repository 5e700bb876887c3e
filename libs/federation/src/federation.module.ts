import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { FederatedLogin } from './federated-login.entity';
import { FederatedLoginRepository } from './federated-login.repository';
import { OidcFlow } from './oidc-flow.entity';
import { OidcFlowRepository } from './oidc-flow.repository';
import { FederationService } from './federation.service';
import { OidcRelyingParty } from './oidc-relying-party.service';

export const FEDERATION_ENTITIES = [OidcFlow, FederatedLogin];

@Module({
  imports: [TypeOrmModule.forFeature(FEDERATION_ENTITIES)],
  providers: [OidcFlowRepository, FederatedLoginRepository, OidcRelyingParty, FederationService],
  exports: [FederationService],
})
export class FederationModule {}
