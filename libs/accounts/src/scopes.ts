import { AppError, ErrorCode } from '@app/errors';

/**
 * OAuth scopes a service account may hold (carried in its tokens' `scope` claim, RFC 9068, and re-read on every request):
 * - `sessions:read`: read user, passkey and service-account status (GET /v1/admin/users/:id and
 *   GET /v1/admin/service-accounts) and nothing else: what Airflow needs to re-check its sessions.
 * - `admin`: the admin API, and only while the account is also in one of ADMIN_GROUPS.
 * An account without scopes uses Airflow's REST API through its groups only; it has no admin API.
 */
export const SERVICE_ACCOUNT_SCOPES = ['admin', 'sessions:read'] as const;
export type ServiceAccountScope = (typeof SERVICE_ACCOUNT_SCOPES)[number];

export const SCOPE_ADMIN: ServiceAccountScope = 'admin';
export const SCOPE_SESSIONS_READ: ServiceAccountScope = 'sessions:read';

/** Deduplicated and sorted; an unknown scope is the caller's mistake (400), never silently dropped. */
export function normalizeScopes(raw: readonly string[] | undefined): ServiceAccountScope[] {
  const scopes = [...new Set((raw ?? []).map((s) => s.trim()).filter(Boolean))];
  const unknown = scopes.find((s) => !(SERVICE_ACCOUNT_SCOPES as readonly string[]).includes(s));
  if (unknown !== undefined)
    throw new AppError(
      ErrorCode.InvalidRequest,
      `unknown scope "${unknown.slice(0, 40)}": use ${SERVICE_ACCOUNT_SCOPES.join(' or ')}`,
    );
  return (scopes as ServiceAccountScope[]).sort();
}
