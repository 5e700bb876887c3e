export { Passkey } from './passkey.entity';
export { Challenge, Ceremony } from './challenge.entity';
export { ChallengeStoreService } from './challenge-store.service';
export { RegistrationService } from './registration.service';
export { AuthenticationService, AssertionRefused, VerifiedAssertion } from './authentication.service';
export { PasskeysService } from './passkeys.service';
export { ChallengeCleanupScheduler } from './challenge-cleanup.scheduler';
export { authenticatorName, defaultPasskeyLabel } from './model-names';
export {
  RegistrationRequester,
  RegisteredPasskey,
  VerifiedLogin,
  AuthenticationResponseJSON,
  SUPPORTED_ALGORITHMS,
  ACCEPTED_ATTESTATION_FORMATS,
  PASSKEY_LABEL_MAX_LENGTH,
} from './ceremony.types';
export { WebAuthnModule, WEBAUTHN_ENTITIES } from './webauthn.module';
export {
  AuthenticatorPolicyScheduler,
  AuthenticatorPolicyService,
  MdsCatalog,
  PolicyNotice,
  PersonCompliance,
  describeReason,
  requirementFor,
} from './policy';
