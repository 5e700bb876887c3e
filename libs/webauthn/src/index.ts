export { Passkey } from './passkey.entity';
export { Challenge, Ceremony } from './challenge.entity';
export { ChallengeStoreService } from './challenge-store.service';
export { RegistrationService } from './registration.service';
export { AuthenticationService } from './authentication.service';
export { PasskeysService } from './passkeys.service';
export { ChallengeCleanupScheduler } from './challenge-cleanup.scheduler';
export { authenticatorName, defaultPasskeyLabel } from './aaguid-names';
export {
  RegistrationRequester,
  RegisteredPasskey,
  VerifiedLogin,
  SUPPORTED_ALGORITHMS,
  ACCEPTED_ATTESTATION_FORMATS,
} from './ceremony.types';
export { WebAuthnModule, WEBAUTHN_ENTITIES } from './webauthn.module';
