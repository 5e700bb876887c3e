import type { VerifiedAccessToken } from '@app/tokens';

/**
 * The caller behind a verified Bearer token, as the database describes them NOW. The token proves who signed in;
 * what they may do (groups, scopes, whether they may act at all) is read again on every request, so a demotion, a
 * disabled account or a revoked passkey takes effect before the token expires.
 */
export interface Principal {
  kind: 'user' | 'service_account';
  id: string;
  /** Username of a person, name of a service account. */
  name: string;
  /** Current groups (never the token's `groups` claim). */
  groups: string[];
  /** Current OAuth scopes of a service account; always empty for a person (people act through their groups). */
  scopes: string[];
  /** The verified claims, for what only the token can say: when and how the person signed in (auth_time, amr). */
  token: VerifiedAccessToken;
}
