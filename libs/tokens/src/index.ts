export { SigningKey, SigningKeyState } from './signing-key.entity';
export { KeyStoreService, ActiveSigningKey } from './key-store.service';
export {
  TokenIssuerService,
  TokenResponse,
  UserTokenSubject,
  ServiceTokenSubject,
  DelegatedTokenSubject,
  ActorClaim,
  LOGIN_CLIENT_ID,
} from './token-issuer.service';
export { TokenVerifierService, VerifiedAccessToken } from './token-verifier.service';
export { KeyRotationScheduler } from './key-rotation.scheduler';
export { TokensModule, TOKENS_ENTITIES } from './tokens.module';
