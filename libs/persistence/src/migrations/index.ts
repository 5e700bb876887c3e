import { InitialSchema1764300000000 } from './1764300000000-initial-schema';
import { RateLimits1764400000000 } from './1764400000000-rate-limits';
import { ServiceAccountScopes1764900000000 } from './1764900000000-service-account-scopes';
import { Federation1765000000000 } from './1765000000000-federation';
import { AuditChain1765100000000 } from './1765100000000-audit-chain';
import { ChallengeUserVerification1765200000000 } from './1765200000000-challenge-user-verification';
import { ProviderSessions1765300000000 } from './1765300000000-provider-sessions';
import { SessionGenerations1766300000000 } from './1766300000000-session-generations';
import { AuditWindowTemplates1766400000000 } from './1766400000000-audit-window-templates';
import { CliSignIns1766500000000 } from './1766500000000-cli-sign-ins';
import { LastLoginMethod1766700000000 } from './1766700000000-last-login-method';
import { DeviceAuthorizations1766800000000 } from './1766800000000-device-authorizations';
import { PasskeyPolicyCompliance1766810000000 } from './1766810000000-passkey-policy-compliance';
import { AgentsAndDelegations1766815000000 } from './1766815000000-agents-and-delegations';
import { DelegationGenerations1766816000000 } from './1766816000000-delegation-generations';
import { ClientKeys1766820000000 } from './1766820000000-client-keys';
import { DeviceAuthorizationDays1766825000000 } from './1766825000000-device-authorization-days';

/** Every migration, oldest first. Listed explicitly (no globs) so bundling and tests see the same set. */
export const MIGRATIONS = [
  InitialSchema1764300000000,
  RateLimits1764400000000,
  ServiceAccountScopes1764900000000,
  Federation1765000000000,
  AuditChain1765100000000,
  ChallengeUserVerification1765200000000,
  ProviderSessions1765300000000,
  SessionGenerations1766300000000,
  AuditWindowTemplates1766400000000,
  CliSignIns1766500000000,
  LastLoginMethod1766700000000,
  DeviceAuthorizations1766800000000,
  PasskeyPolicyCompliance1766810000000,
  AgentsAndDelegations1766815000000,
  DelegationGenerations1766816000000,
  ClientKeys1766820000000,
  DeviceAuthorizationDays1766825000000,
];
