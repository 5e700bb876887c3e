export { OidcFlow } from './oidc-flow.entity';
export { FederatedLogin, PasskeyStep } from './federated-login.entity';
export { FederationService, LogoutTarget, StartedFlow, VerifiedFederation } from './federation.service';
export { ProviderSession } from './provider-session.entity';
export { UsedLogoutToken } from './used-logout-token.entity';
export { VerifiedLogoutToken } from './oidc-relying-party.service';
export { ID_TOKEN_ALGORITHMS, OidcRelyingParty, ProviderHealth } from './oidc-relying-party.service';
export { FederationModule, FEDERATION_ENTITIES } from './federation.module';
export { OidcFlowCleanupScheduler } from './oidc-flow-cleanup.scheduler';
