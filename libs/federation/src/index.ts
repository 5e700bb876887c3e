export { OidcFlow } from './oidc-flow.entity';
export { FederatedLogin, PasskeyStep } from './federated-login.entity';
export { FederationService, StartedFlow, VerifiedFederation } from './federation.service';
export { ID_TOKEN_ALGORITHMS } from './oidc-relying-party.service';
export { FederationModule, FEDERATION_ENTITIES } from './federation.module';
export { OidcFlowCleanupScheduler } from './oidc-flow-cleanup.scheduler';
