/**
 * The running stack (described by the launcher's JSON file) and the auth service's admin API, which the tests use
 * to set up their own users, invites and revocations, so every test stands alone.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tailOf } from './logs';

// better-sqlite3 (the service's SQLite driver) ships no type declarations; these are the calls used here.
type SqliteDatabase = { prepare(sql: string): { run(...params: unknown[]): { changes: number } }; close(): void };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require('better-sqlite3') as new (file: string, options?: { timeout?: number }) => SqliteDatabase;

export interface StackInfo {
  airflowUrl: string;
  serviceUrl: string;
  serviceDatabase: string;
  workdir: string;
  logs: Record<string, string>;
  adminClient: { clientId: string; clientSecret: string };
  roleMapping: Record<string, string>;
  exampleDagId: string;
  /** The real OpenID provider the service signs people in through (test/integration/support/serve_stack.py). */
  idp: { issuer: string; displayName: string; OIDC_ALLOWED_GROUPS: string; FEDERATION_PASSKEY_REQUIRED_GROUPS: string };
}

let cached: StackInfo | undefined;

export function stack(): StackInfo {
  if (!cached) {
    const file = process.env.BROWSER_STACK_FILE;
    if (!file)
      throw new Error(
        'BROWSER_STACK_FILE is not set: run the browser suite through jest (its globalSetup starts the stack)',
      );
    cached = JSON.parse(readFileSync(file, 'utf8')) as StackInfo;
  }
  return cached;
}

/** Tails of the auth service's and Airflow's logs, appended to failure messages. */
export function stackLogTails(lines = 40): string {
  return Object.values(stack().logs)
    .map((path) => tailOf(path, lines))
    .join('\n');
}

/** A username no other test (or earlier run on the same stack) uses. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export const GROUPS = { admin: 'airflow-admins', op: 'it-ops', user: 'it-users', viewer: 'it-viewers' } as const;

export interface Invite {
  id: string;
  username: string;
  token: string;
  url: string;
  expiresAt: string;
}

export interface PasskeyView {
  id: string;
  label: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  backedUp: boolean;
  deviceType: string;
}

export interface UserDetail {
  id: string;
  username: string;
  displayName: string | null;
  groups: string[];
  disabled: boolean;
  idp: string | null;
  lastIdpLoginAt: string | null;
  passkeys: PasskeyView[];
}

/** POST /v1/oauth/token (client credentials) on the stack's auth service; the caller checks the answer. */
export function clientCredentialsGrant(clientId: string, clientSecret: string): Promise<Response> {
  return fetch(`${stack().serviceUrl}/v1/oauth/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret }),
  });
}

/** The service's /v1/admin API with the suite's admin-group service account. */
export class AdminApi {
  private token?: { value: string; until: number };

  private async bearer(): Promise<string> {
    if (!this.token || Date.now() > this.token.until) {
      const { clientId, clientSecret } = stack().adminClient;
      const res = await clientCredentialsGrant(clientId, clientSecret);
      if (!res.ok) throw new Error(`admin token: HTTP ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { access_token: string; expires_in: number };
      this.token = { value: body.access_token, until: Date.now() + (body.expires_in - 30) * 1000 };
    }
    return this.token.value;
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${stack().serviceUrl}/v1/admin${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${await this.bearer()}`,
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /v1/admin${path}: HTTP ${res.status} ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  createInvite(
    username: string,
    groups: string[],
    extra: { displayName?: string; ttlSeconds?: number } = {},
  ): Promise<Invite> {
    return this.call<Invite>('POST', '/invites', { username, groups, ...extra });
  }

  invites(): Promise<Array<{ id: string; username: string; state: string; usedAt: string | null }>> {
    return this.call('GET', '/invites');
  }

  user(username: string): Promise<UserDetail> {
    return this.call<UserDetail>('GET', `/users/${encodeURIComponent(username)}`);
  }

  revokePasskey(id: string): Promise<PasskeyView> {
    return this.call<PasskeyView>('DELETE', `/passkeys/${encodeURIComponent(id)}`);
  }

  /** Why the service refused this user's sign-ins, newest first (the `reason` of its failed `login` audit events). */
  async loginFailureReasons(userId: string): Promise<string[]> {
    const page = await this.call<{ items: Array<{ reason: string | null }> }>(
      'GET',
      `/audit?type=login&outcome=failure&subject=${encodeURIComponent(userId)}`,
    );
    return page.items.map((e) => e.reason ?? '');
  }

  /** The issuer the service puts in its JWTs (from its discovery document). */
  async issuer(): Promise<string> {
    const res = await fetch(`${stack().serviceUrl}/.well-known/openid-configuration`);
    return ((await res.json()) as { issuer: string }).issuer;
  }

  /**
   * Test setup only: move an invite's expiry into the past in the service's database (the API's shortest lifetime
   * is 60 s, too long to wait for). Everything after this — refusing the invite — is the real service's doing.
   */
  /**
   * Test setup only: flag a passkey as a security check does when its signature counter goes backwards (making a
   * real authenticator do that is not possible). Reviewing and unblocking it is then the page's and service's doing.
   */
  flagPasskey(id: string, reason = 'counter_regression'): void {
    const db = new Database(stack().serviceDatabase, { timeout: 5000 });
    try {
      const changed = db
        .prepare('UPDATE passkeys SET flagged_at = ?, flag_reason = ? WHERE id = ?')
        .run(Date.now(), reason, id).changes;
      if (changed !== 1) throw new Error(`passkey ${id} not found in ${stack().serviceDatabase}`);
    } finally {
      db.close();
    }
  }

  expireInvite(id: string): void {
    const db = new Database(stack().serviceDatabase, { timeout: 5000 });
    try {
      const changed = db.prepare('UPDATE invites SET expires_at = ? WHERE id = ?').run(Date.now() - 60_000, id).changes;
      if (changed !== 1) throw new Error(`invite ${id} not found in ${stack().serviceDatabase}`);
    } finally {
      db.close();
    }
  }
}
