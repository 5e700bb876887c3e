import { Transform } from 'class-transformer';
import { IsBase64, IsIn, IsInt, IsNotEmpty, IsOptional, IsString, Matches, Max, Min } from 'class-validator';

/**
 * A whole-number setting: the variable's text read as a number, then checked to be an integer from `min` to `max`.
 * The decorators are applied bottom-up, as a written stack is, so a bad value is reported exactly as before.
 */
function IntSetting(min: number, max?: number): PropertyDecorator {
  const stack = [
    Transform(({ value }) => (value === undefined ? undefined : Number(value))),
    IsInt(),
    Min(min),
    ...(max === undefined ? [] : [Max(max)]),
  ];
  const bottomUp = stack.reverse();
  return (target, property) => bottomUp.forEach((decorate) => decorate(target, property));
}

/**
 * The raw environment, as class-validator sees it. Every field maps one-to-one to a documented variable
 * (README "Configuration"), so an error message can name the variable the operator has to fix.
 */
export class Environment {
  @IsIn(['development', 'production', 'test'])
  NODE_ENV: 'development' | 'production' | 'test' = 'production';

  @IntSetting(0, 65535)
  PORT = 3000;

  @IsString()
  @IsNotEmpty()
  HOST = '127.0.0.1';

  @IsOptional()
  @Matches(/^https?:\/\/[^/\s]+$/, {
    message: 'PUBLIC_URL must be an origin like https://auth.internal:3000 (no path)',
  })
  PUBLIC_URL?: string;

  @IsString()
  @IsNotEmpty()
  DATABASE_URL = './data/auth.sqlite';

  @IsString()
  @Matches(/^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/, {
    message:
      "WEBAUTHN_RP_ID must be Airflow's host name (e.g. airflow.example.com or localhost); IP addresses and ports are not allowed",
  })
  WEBAUTHN_RP_ID: string;

  @IsString()
  @IsNotEmpty()
  WEBAUTHN_RP_NAME = 'Apache Airflow';

  @IsString()
  @IsNotEmpty({
    message: 'WEBAUTHN_ORIGINS must list the origin(s) people use for Airflow, e.g. https://airflow.example.com',
  })
  WEBAUTHN_ORIGINS: string;

  /**
   * The enrollment page invite links point to (the token is appended as `?invite=`). Served by Airflow, so it is
   * Airflow's address: default `<first WEBAUTHN_ORIGINS>/auth/enroll` (the auth manager is mounted at /auth).
   */
  @IsOptional()
  @IsString()
  ENROLLMENT_URL?: string;

  @IsIn(['required', 'preferred'])
  WEBAUTHN_USER_VERIFICATION: 'required' | 'preferred' = 'required';

  @IntSetting(10, 900)
  WEBAUTHN_CHALLENGE_TTL_SECONDS = 120;

  /** How recent a person's passkey assertion must be for sensitive self-service actions (adding a passkey). */
  @IntSetting(30, 3600)
  WEBAUTHN_STEP_UP_MAX_AGE_SECONDS = 300;

  @IsOptional()
  @IsString()
  @IsNotEmpty()
  JWT_ISSUER?: string;

  @IsString()
  @IsNotEmpty()
  JWT_AUDIENCE = 'airflow';

  @IsIn(['EdDSA', 'ES256'])
  JWT_SIGNING_ALG: 'EdDSA' | 'ES256' = 'EdDSA';

  @IntSetting(60, 3600)
  USER_TOKEN_TTL_SECONDS = 600;

  @IntSetting(60, 3600)
  SERVICE_TOKEN_TTL_SECONDS = 900;

  /** The longest a person may let an agent act for them (libs/delegations); the approval may choose less. */
  @IntSetting(1, 365)
  DELEGATION_MAX_DAYS = 30;

  @IntSetting(0)
  KEY_ROTATION_INTERVAL_HOURS = 720;

  // The hint must not send an operator of an existing database off to make a new key (it cannot open the stored ones).
  @IsBase64(undefined, {
    message:
      'KEY_ENCRYPTION_KEY must be the base64 key the signing keys were stored with; only for a new installation, make one with: openssl rand -base64 32',
  })
  KEY_ENCRYPTION_KEY: string;

  @IsString()
  @IsNotEmpty()
  ADMIN_GROUPS = 'airflow-admins';

  @IntSetting(300, 30 * 24 * 3600)
  INVITE_TTL_SECONDS = 72 * 3600;

  @IsString()
  TRUST_PROXY = 'loopback';

  /** Days an audit event is kept; older events are pruned, leaving a checkpoint the rest of the chain verifies from. */
  @IntSetting(1)
  AUDIT_RETENTION_DAYS = 400;

  /** Seconds between signed audit chain heads written to the log (when the chain moved), for log shipping to keep. */
  @IntSetting(10, 24 * 3600)
  AUDIT_HEAD_LOG_SECONDS = 300;

  /** JSON array of rules: which authenticators each group may use (authenticator-policy-config.ts). */
  @IsOptional()
  @IsString()
  AUTHENTICATOR_POLICY?: string;

  /** Days a passkey the policy no longer allows keeps signing its owner in (they are told meanwhile). */
  @IntSetting(0, 365)
  AUTHENTICATOR_POLICY_GRACE_DAYS = 14;

  /** A FIDO MDS3 blob file (JWS) downloaded from https://mds3.fidoalliance.org/. */
  @IsOptional()
  @IsString()
  MDS_BLOB_PATH?: string;

  /** A PEM root certificate trusted for the MDS blob instead of FIDO's (tests, private MDS mirrors). */
  @IsOptional()
  @IsString()
  MDS_ROOT_CERT_PATH?: string;

  /** Requests per minute per client address without a valid Bearer token (all routes but health); 0 turns every limit off. */
  @IntSetting(0)
  RATE_LIMIT_PER_MINUTE = 600;

  /** Requests per minute per authenticated client (service account by client id, person by user id). */
  @IntSetting(1)
  RATE_LIMIT_CLIENT_PER_MINUTE = 1200;

  /** Unauthenticated ceremony starts (sign-in and enrollment options) per minute per address. */
  @IntSetting(1)
  RATE_LIMIT_CEREMONY_STARTS_PER_MINUTE = 60;

  /** Failed client authentications per client id per address, per failure window. */
  @IntSetting(1)
  RATE_LIMIT_FAILED_SECRETS = 10;

  /** Failed sign-ins per passkey (credential id) per address, per failure window. */
  @IntSetting(1)
  RATE_LIMIT_FAILED_SIGN_INS = 10;

  @IntSetting(10, 24 * 3600)
  RATE_LIMIT_FAILURE_WINDOW_SECONDS = 900;

  /**
   * Optional Redis for the rate-limit counters (libs/limits/redis-limit-store.ts); without it they live in the
   * database. Sensitive: it may carry a password, so it is never logged or echoed.
   */
  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must be a redis:// or rediss:// URL' })
  REDIS_URL?: string;

  /** Namespace of the limit keys in Redis, so several deployments (or test runs) can share one Redis. */
  @Matches(/^[A-Za-z0-9:_.-]{1,64}$/, {
    message: 'REDIS_KEY_PREFIX must be 1-64 characters of letters, digits, ":", "_", "." or "-"',
  })
  REDIS_KEY_PREFIX = 'awa:limits:';

  /** Sign-in through the organisation's OpenID provider (see oidc-config.ts): off unless OIDC_ISSUER is set. */
  @IsOptional()
  @IsString()
  OIDC_ISSUER?: string;

  @IsOptional()
  @IsString()
  OIDC_CLIENT_ID?: string;

  @IsOptional()
  @IsString()
  OIDC_CLIENT_SECRET?: string;

  @IsString()
  @IsNotEmpty()
  OIDC_DISPLAY_NAME = 'your identity provider';

  @IsString()
  @IsNotEmpty()
  OIDC_SCOPES = 'openid profile email';

  @IsString()
  @IsNotEmpty()
  OIDC_USERNAME_CLAIM = 'preferred_username';

  @IsString()
  @IsNotEmpty()
  OIDC_GROUPS_CLAIM = 'groups';

  @IsOptional()
  @IsString()
  OIDC_ALLOWED_GROUPS?: string;

  @IsOptional()
  @IsString()
  OIDC_REDIRECT_URI?: string;

  @IsIn(['true', 'false'])
  OIDC_ALLOW_HTTP: 'true' | 'false' = 'false';

  /** How long a sign-in's provider session (sid) is remembered for back-channel logout: Airflow's session_ttl_seconds or more. */
  @IntSetting(600, 31 * 24 * 3600)
  OIDC_SID_RETENTION_SECONDS = 86400;

  @IsString()
  @IsNotEmpty()
  FEDERATION_PASSKEY_REQUIRED_GROUPS = '*';

  @IsIn(['fatal', 'error', 'warn', 'log', 'debug', 'verbose'])
  LOG_LEVEL: 'fatal' | 'error' | 'warn' | 'log' | 'debug' | 'verbose' = 'log';

  /** auto: text (one line per event) on a terminal, JSON lines otherwise (a file, a pipe, a log collector). */
  @IsIn(['json', 'text', 'auto'])
  LOG_FORMAT: 'json' | 'text' | 'auto' = 'auto';
}
