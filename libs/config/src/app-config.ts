import { plainToInstance } from 'class-transformer';
import { validateSync, ValidationError } from 'class-validator';
import { Environment } from './environment';
import { OidcConfig, parseOidcConfig } from './oidc-config';
import { parseGroupList } from './group-name';
import { AuthenticatorPolicyConfig, parseAuthenticatorPolicy } from './authenticator-policy-config';

export type DatabaseConfig = { type: 'better-sqlite3'; database: string } | { type: 'postgres'; url: string };

/** The validated, typed configuration every module reads. Built once at start-up. */
export interface AppConfig {
  env: Environment['NODE_ENV'];
  port: number;
  host: string;
  publicUrl: string;
  database: DatabaseConfig;
  webauthn: {
    rpId: string;
    rpName: string;
    origins: string[];
    userVerification: 'required' | 'preferred';
    challengeTtlSeconds: number;
    /** Adding a passkey with a Bearer token needs a user-verified sign-in at most this old. */
    stepUpMaxAgeSeconds: number;
  };
  jwt: {
    issuer: string;
    audience: string;
    signingAlg: 'EdDSA' | 'ES256';
    userTokenTtlSeconds: number;
    serviceTokenTtlSeconds: number;
    rotationIntervalHours: number;
  };
  /** Sensitive: never logged. */
  keyEncryptionKey: Buffer;
  adminGroups: string[];
  inviteTtlSeconds: number;
  /** DELEGATION_MAX_DAYS: the longest delegation a person may approve for an agent. */
  delegationMaxDays: number;
  /** Where people enroll: the first WebAuthn origin's enrollment page, served by the Airflow plugin. */
  enrollmentUrl: string;
  trustProxy: string;
  /** Rate limits (libs/limits): fixed windows counted in the database, shared by every instance. */
  limits: {
    enabled: boolean;
    addressPerMinute: number;
    clientPerMinute: number;
    ceremonyStartsPerMinute: number;
    failedSecrets: number;
    failedSignIns: number;
    failureWindowSeconds: number;
    /** Sensitive (may carry a password): never logged. When set, the counters live in Redis (libs/limits). */
    redisUrl?: string;
    /** Namespace of the counters' keys in Redis. */
    redisKeyPrefix: string;
  };
  logLevel: Environment['LOG_LEVEL'];
  logFormat: Environment['LOG_FORMAT'];
  /** AUDIT_RETENTION_DAYS */
  auditRetentionDays: number;
  /** AUDIT_HEAD_LOG_SECONDS */
  auditHeadLogSeconds: number;
  /** Sign-in through the organisation's OpenID provider; absent when OIDC_ISSUER is not set. */
  oidc?: OidcConfig;
  /** AUTHENTICATOR_POLICY, its grace period and the FIDO metadata it checks models against. */
  authenticatorPolicy: AuthenticatorPolicyConfig;
}

/** Every problem found, one line each (operators read it in a terminal or a log, scripts grep it). */
export class ConfigValidationError extends Error {
  constructor(
    readonly problems: string[],
    /** Where the settings were read from, when it helps to say so. */
    readonly source?: string,
  ) {
    super(`Invalid configuration${source ? ` (${source})` : ''}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

const SENSITIVE = new Set(['KEY_ENCRYPTION_KEY', 'REDIS_URL', 'OIDC_CLIENT_SECRET']);

/** One line per wrong variable: its first failed rule, and the value as the operator wrote it. */
function describe(error: ValidationError, raw: Record<string, string | undefined>): string {
  const constraint = Object.values(error.constraints ?? {}).reverse()[0] ?? 'is invalid';
  const given = raw[error.property];
  // Never echo a secret back, even a malformed one: it may be a real key pasted in the wrong place.
  const shown = SENSITIVE.has(error.property)
    ? ''
    : given === undefined
      ? ' (not set)'
      : ` (got ${JSON.stringify(given)})`;
  return constraint.startsWith(error.property) ? `${constraint}${shown}` : `${error.property}: ${constraint}${shown}`;
}

function parseOrigin(raw: string, problems: string[]): string | undefined {
  try {
    const url = new URL(raw);
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.origin !== raw.replace(/\/$/, '')) {
      problems.push(`WEBAUTHN_ORIGINS: "${raw}" is not an origin (scheme://host[:port], no path)`);
      return undefined;
    }
    return url.origin;
  } catch {
    problems.push(`WEBAUTHN_ORIGINS: "${raw}" is not a URL`);
    return undefined;
  }
}

/** The page invite links open: on one of the WebAuthn origins (the ceremony runs there), with no query or fragment. */
function parseEnrollmentUrl(raw: string | undefined, origins: string[], problems: string[]): string {
  if (raw === undefined) return `${origins[0]}/auth/enroll`;
  try {
    const url = new URL(raw);
    if (url.search || url.hash || !origins.includes(url.origin)) {
      problems.push('ENROLLMENT_URL must be a page on one of WEBAUTHN_ORIGINS, without a query or fragment');
    }
    return `${url.origin}${url.pathname.replace(/\/$/, '')}`;
  } catch {
    problems.push('ENROLLMENT_URL is not a URL');
    return raw;
  }
}

function parseDatabase(url: string): DatabaseConfig {
  if (/^postgres(ql)?:\/\//.test(url)) return { type: 'postgres', url };
  return { type: 'better-sqlite3', database: url.replace(/^sqlite:\/\//, '') };
}

/** Validates `process.env` (or any record) into an AppConfig; throws ConfigValidationError listing every problem. */
export function loadAppConfig(raw: Record<string, string | undefined>): AppConfig {
  const defined = Object.fromEntries(Object.entries(raw).filter(([, v]) => v !== undefined && v !== ''));
  const env = plainToInstance(Environment, defined, { exposeDefaultValues: true });
  const problems = validateSync(env, { skipMissingProperties: false }).map((e) => describe(e, defined));

  const origins = (env.WEBAUTHN_ORIGINS ?? '')
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean)
    .map((o) => parseOrigin(o, problems))
    .filter((o): o is string => o !== undefined);
  for (const origin of origins) {
    const host = new URL(origin).hostname;
    if (env.WEBAUTHN_RP_ID && host !== env.WEBAUTHN_RP_ID && !host.endsWith(`.${env.WEBAUTHN_RP_ID}`)) {
      problems.push(`WEBAUTHN_ORIGINS: ${origin} is not on WEBAUTHN_RP_ID ${env.WEBAUTHN_RP_ID} or a subdomain of it`);
    }
    if (new URL(origin).protocol === 'http:' && host !== 'localhost' && env.NODE_ENV === 'production') {
      problems.push(`WEBAUTHN_ORIGINS: ${origin} uses http; browsers only allow WebAuthn on https (or localhost)`);
    }
  }

  let keyEncryptionKey = Buffer.alloc(0);
  if (env.KEY_ENCRYPTION_KEY) {
    keyEncryptionKey = Buffer.from(env.KEY_ENCRYPTION_KEY, 'base64');
    if (keyEncryptionKey.length !== 32) {
      problems.push(`KEY_ENCRYPTION_KEY must decode to exactly 32 bytes (it decodes to ${keyEncryptionKey.length})`);
    }
  }
  const enrollmentUrl = parseEnrollmentUrl(env.ENROLLMENT_URL, origins, problems);
  const before = problems.length;
  const adminGroups = parseGroupList('ADMIN_GROUPS', env.ADMIN_GROUPS, problems);
  if (adminGroups.length === 0 && problems.length === before) {
    problems.push('ADMIN_GROUPS must name at least one group');
  }
  const oidc = parseOidcConfig(env, origins, problems);
  const authenticatorPolicy = parseAuthenticatorPolicy(env, problems);

  if (problems.length > 0) throw new ConfigValidationError(problems);

  const publicUrl = env.PUBLIC_URL ?? `http://${env.HOST === '0.0.0.0' ? '127.0.0.1' : env.HOST}:${env.PORT}`;
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    publicUrl,
    database: parseDatabase(env.DATABASE_URL),
    webauthn: {
      rpId: env.WEBAUTHN_RP_ID,
      rpName: env.WEBAUTHN_RP_NAME,
      origins,
      userVerification: env.WEBAUTHN_USER_VERIFICATION,
      challengeTtlSeconds: env.WEBAUTHN_CHALLENGE_TTL_SECONDS,
      stepUpMaxAgeSeconds: env.WEBAUTHN_STEP_UP_MAX_AGE_SECONDS,
    },
    jwt: {
      issuer: env.JWT_ISSUER ?? publicUrl,
      audience: env.JWT_AUDIENCE,
      signingAlg: env.JWT_SIGNING_ALG,
      userTokenTtlSeconds: env.USER_TOKEN_TTL_SECONDS,
      serviceTokenTtlSeconds: env.SERVICE_TOKEN_TTL_SECONDS,
      rotationIntervalHours: env.KEY_ROTATION_INTERVAL_HOURS,
    },
    keyEncryptionKey,
    adminGroups,
    inviteTtlSeconds: env.INVITE_TTL_SECONDS,
    delegationMaxDays: env.DELEGATION_MAX_DAYS,
    enrollmentUrl,
    trustProxy: env.TRUST_PROXY,
    limits: {
      enabled: env.RATE_LIMIT_PER_MINUTE > 0,
      addressPerMinute: env.RATE_LIMIT_PER_MINUTE,
      clientPerMinute: env.RATE_LIMIT_CLIENT_PER_MINUTE,
      ceremonyStartsPerMinute: env.RATE_LIMIT_CEREMONY_STARTS_PER_MINUTE,
      failedSecrets: env.RATE_LIMIT_FAILED_SECRETS,
      failedSignIns: env.RATE_LIMIT_FAILED_SIGN_INS,
      failureWindowSeconds: env.RATE_LIMIT_FAILURE_WINDOW_SECONDS,
      redisUrl: env.REDIS_URL,
      redisKeyPrefix: env.REDIS_KEY_PREFIX,
    },
    logLevel: env.LOG_LEVEL,
    logFormat: env.LOG_FORMAT,
    auditRetentionDays: env.AUDIT_RETENTION_DAYS,
    auditHeadLogSeconds: env.AUDIT_HEAD_LOG_SECONDS,
    ...(oidc ? { oidc } : {}),
    authenticatorPolicy,
  };
}

/** The log format in effect: LOG_FORMAT, with `auto` decided by whether the output is a terminal. */
export function effectiveLogFormat(
  config: Pick<AppConfig, 'logFormat'>,
  output: { isTTY?: boolean } = process.stdout,
): 'json' | 'text' {
  if (config.logFormat !== 'auto') return config.logFormat;
  return output.isTTY ? 'text' : 'json';
}
