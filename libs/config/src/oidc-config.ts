import type { Environment } from './environment';
import { parseGroupList } from './group-name';

/** Sign-in through one OpenID provider. A second provider later is a second entry of this shape. */
export interface OidcConfig {
  /** The issuer identifier exactly as the provider's discovery document states it. */
  issuer: string;
  clientId: string;
  /** Sensitive: never logged. */
  clientSecret: string;
  displayName: string;
  scopes: string[];
  usernameClaim: string;
  groupsClaim: string;
  /** Only members of one of these groups may sign in; null: anyone the provider vouches for. */
  allowedGroups: string[] | null;
  /** Airflow's callback page (the plugin relays it to the service). */
  redirectUri: string;
  /** Plain http to the provider: only for a loopback issuer (tests). */
  allowHttp: boolean;
  /** Whose provider sign-in must be completed with a passkey; `*` is everyone. */
  passkeyRequiredGroups: string[];
  /** How long a started sign-in may take at the provider (password, the provider's own MFA). */
  flowTtlSeconds: number;
  /**
   * How long the provider session (`sid`) of a sign-in is remembered, so a back-channel logout naming only it still
   * finds the person: at least as long as an Airflow session lasts (the plugin's `session_ttl_seconds`).
   */
  sidRetentionSeconds: number;
}

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const FLOW_TTL_SECONDS = 600;

function parseIssuer(raw: string, allowHttp: boolean, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`OIDC_ISSUER is not a URL (got ${JSON.stringify(raw)})`);
    return;
  }
  if (url.search || url.hash) problems.push('OIDC_ISSUER must not have a query or fragment');
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:') problems.push(`OIDC_ISSUER must be an https URL (got ${JSON.stringify(raw)})`);
  // Plain http lets anyone on the path forge the provider's answers: only a provider on this machine (tests).
  else if (!allowHttp || !LOOPBACK.has(url.hostname)) {
    problems.push(
      `OIDC_ISSUER must use https; http is allowed only for a loopback issuer with OIDC_ALLOW_HTTP=true (got ${JSON.stringify(raw)})`,
    );
  }
}

function parseRedirectUri(raw: string | undefined, origins: string[], problems: string[]): string {
  const fallback = `${origins[0] ?? ''}/auth/oidc/callback`;
  if (raw === undefined) return fallback;
  try {
    const url = new URL(raw);
    if (url.search || url.hash || !origins.includes(url.origin)) {
      problems.push(
        'OIDC_REDIRECT_URI must be a page on one of WEBAUTHN_ORIGINS (Airflow relays it), without a query or fragment',
      );
    }
    return url.href;
  } catch {
    problems.push('OIDC_REDIRECT_URI is not a URL');
    return raw;
  }
}

/** The provider settings, or undefined when OIDC_ISSUER is not set (the feature is off). Problems are appended. */
export function parseOidcConfig(env: Environment, origins: string[], problems: string[]): OidcConfig | undefined {
  if (!env.OIDC_ISSUER) {
    for (const name of ['OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET', 'OIDC_ALLOWED_GROUPS', 'OIDC_REDIRECT_URI'] as const) {
      if (env[name])
        problems.push(`${name} is set but OIDC_ISSUER is not: set OIDC_ISSUER to sign in through an OpenID provider`);
    }
    return undefined;
  }
  const allowHttp = env.OIDC_ALLOW_HTTP === 'true';
  parseIssuer(env.OIDC_ISSUER, allowHttp, problems);
  if (!env.OIDC_CLIENT_ID)
    problems.push('OIDC_CLIENT_ID must be set with OIDC_ISSUER (the client id registered at the provider)');
  if (!env.OIDC_CLIENT_SECRET)
    problems.push('OIDC_CLIENT_SECRET must be set with OIDC_ISSUER (the client secret registered at the provider)');
  const scopes = env.OIDC_SCOPES.split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes('openid')) problems.push('OIDC_SCOPES must include openid');
  const allowed = parseGroupList('OIDC_ALLOWED_GROUPS', env.OIDC_ALLOWED_GROUPS, problems);
  const requiredRaw = env.FEDERATION_PASSKEY_REQUIRED_GROUPS;
  const required = parseGroupList('FEDERATION_PASSKEY_REQUIRED_GROUPS', requiredRaw, problems, true);
  if (required.length === 0) problems.push('FEDERATION_PASSKEY_REQUIRED_GROUPS must name groups, or * for everyone');
  return {
    issuer: env.OIDC_ISSUER,
    clientId: env.OIDC_CLIENT_ID ?? '',
    clientSecret: env.OIDC_CLIENT_SECRET ?? '',
    displayName: env.OIDC_DISPLAY_NAME,
    scopes,
    usernameClaim: env.OIDC_USERNAME_CLAIM,
    groupsClaim: env.OIDC_GROUPS_CLAIM,
    allowedGroups: allowed.length > 0 ? allowed : null,
    redirectUri: parseRedirectUri(env.OIDC_REDIRECT_URI, origins, problems),
    allowHttp,
    passkeyRequiredGroups: required,
    flowTtlSeconds: FLOW_TTL_SECONDS,
    sidRetentionSeconds: env.OIDC_SID_RETENTION_SECONDS,
  };
}
