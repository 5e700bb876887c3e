export { AppConfig, DatabaseConfig, ConfigValidationError, effectiveLogFormat, loadAppConfig } from './app-config';
export { AppConfigModule, APP_CONFIG } from './config.module';
export { CLOCK, Clock, systemClock } from './clock';
export { DEFAULT_ENV_FILE, envFileArgument, loadConfiguration, resolveEnvironment } from './config-source';
export { OidcConfig } from './oidc-config';
export { GROUP_NAME_RULE, canonicalGroupName, parseGroupList } from './group-name';
export {
  AuthenticatorPolicyConfig,
  AuthenticatorPolicyRule,
  CERTIFIED_LEVELS,
  CertifiedLevel,
  ruleNeedsMetadata,
} from './authenticator-policy-config';
