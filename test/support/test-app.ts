/**
 * Shared set-up for the service end-to-end suites: a real Nest application (createApp, same pipes, filters and
 * guards as production) on a private database, plus helpers for the tokens and ceremonies most tests need.
 *
 * Database: a temporary SQLite file by default. With E2E_DATABASE_URL set (e.g. postgres://postgres@127.0.0.1:5432/test)
 * every call gets its own freshly created PostgreSQL schema, selected through the connection's search_path, so
 * suites never see each other's rows and can run in any order.
 *
 * The exported names and signatures are relied on by several spec files: extend, don't change.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { DataSource } from 'typeorm';
import type {
  AuthenticationResponseJSON,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { InvitesService, ServiceAccountsService, UsersService } from '@app/accounts';
import type { AuditContext } from '@app/audit';
import { AppConfig, loadAppConfig } from '@app/config';
import { dataSourceOptions, MIGRATIONS } from '@app/persistence';
import { PasskeysService } from '@app/webauthn';
import { createApp } from '../../apps/auth-service/src/bootstrap';
import { AssertionOverrides, RegistrationOverrides, SoftAuthenticator } from './soft-authenticator';

export const TEST_RP_ID = 'localhost';
/** The Airflow origin the passkeys are bound to in every test configuration. */
export const TEST_ORIGIN = 'http://localhost:8080';
export const ADMIN_GROUP = 'airflow-admins';
/** Audit context for set-up done directly through services (distinguishable from HTTP actions in the trail). */
export const TEST_CONTEXT: AuditContext = { actorType: 'cli', actorId: 'e2e-setup' };

export type HttpAgent = ReturnType<typeof request.agent>;

export interface TestDatabase {
  /** Value for DATABASE_URL. */
  url: string;
  /** Removes the database (file or schema). Idempotent. */
  drop(): Promise<void>;
}

export interface TestApp {
  app: INestApplication;
  http: HttpAgent;
  config: AppConfig;
  /** The environment the config was built from (hand it to a spawned CLI to share the database). */
  env: Record<string, string>;
  database: TestDatabase;
  close(): Promise<void>;
}

/** One statement on a short-lived connection (TypeORM's driver, as pg ships no types of its own here). */
async function onPostgres(url: string, sql: string): Promise<void> {
  const ds = await new DataSource({ type: 'postgres', url }).initialize();
  try {
    await ds.query(sql);
  } finally {
    await ds.destroy();
  }
}

/** A private, empty database: SQLite file in a temp dir, or a fresh PostgreSQL schema when E2E_DATABASE_URL is set. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const base = process.env.E2E_DATABASE_URL;
  if (base) {
    const schema = `e2e_${randomBytes(6).toString('hex')}`;
    await onPostgres(base, `CREATE SCHEMA "${schema}"`);
    let dropped = false;
    return {
      url: `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
      async drop() {
        if (dropped) return;
        dropped = true;
        await onPostgres(base, `DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'airflow-webauthn-e2e-'));
  return {
    url: join(dir, 'auth.sqlite'),
    drop() {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    },
  };
}

/** The environment of a test service: valid, quiet, unthrottled. `undefined` in overrides removes a variable. */
export function testEnvironment(
  databaseUrl: string,
  overrides: Record<string, string | undefined> = {},
): Record<string, string> {
  const env: Record<string, string | undefined> = {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    WEBAUTHN_RP_ID: TEST_RP_ID,
    WEBAUTHN_ORIGINS: TEST_ORIGIN,
    PUBLIC_URL: 'http://127.0.0.1:3000',
    RATE_LIMIT_PER_MINUTE: '0',
    LOG_LEVEL: 'error',
    ...overrides,
  };
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Starts the full HTTP application (not listening: supertest binds an ephemeral port per request). */
/**
 * A connection to a test database that knows only `migrations` and no entities: rows are written as an earlier
 * release wrote them, not through today's model (the migration suites).
 */
export function openWithMigrations(database: TestDatabase, migrations: typeof MIGRATIONS): Promise<DataSource> {
  return new DataSource({
    ...dataSourceOptions(loadAppConfig(testEnvironment(database.url)), []),
    migrations,
  }).initialize();
}

/** The position of the migration named `name` in MIGRATIONS; throws when there is none (a renamed migration). */
export function migrationIndex(name: string): number {
  const index = MIGRATIONS.findIndex((m) => m.name === name);
  if (index < 0) throw new Error(`no migration named ${name}`);
  return index;
}

export async function startTestApp(overrides: Record<string, string | undefined> = {}): Promise<TestApp> {
  const database = await createTestDatabase();
  const env = testEnvironment(database.url, overrides);
  try {
    const config = loadAppConfig(env);
    const app = await createApp(config, false);
    await app.init();
    let closed = false;
    return {
      app,
      http: request.agent(app.getHttpServer() as Server),
      config,
      env,
      database,
      async close() {
        if (closed) return;
        closed = true;
        await app.close();
        await database.drop();
      },
    };
  } catch (error) {
    await database.drop();
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

export interface ServiceAccountCredentials {
  id: string;
  name: string;
  clientId: string;
  clientSecret: string;
  groups: string[];
  scopes: string[];
}

export async function createServiceAccount(
  t: TestApp,
  opts: { name?: string; groups?: string[]; scopes?: string[] } = {},
): Promise<ServiceAccountCredentials> {
  const name = opts.name ?? `sa-${randomBytes(4).toString('hex')}`;
  const created = await t.app
    .get(ServiceAccountsService)
    .create(TEST_CONTEXT, { name, groups: opts.groups ?? [], scopes: opts.scopes ?? [] });
  // Created without keys, so with a secret.
  return { ...created, clientSecret: created.clientSecret! };
}

/** The raw token-endpoint response (client_secret_post), for tests that look at failures. */
export function requestClientToken(t: TestApp, clientId: string, clientSecret: string) {
  return t.http
    .post('/v1/oauth/token')
    .type('form')
    .send({ grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
}

export async function clientToken(t: TestApp, clientId: string, clientSecret: string): Promise<string> {
  const res = await requestClientToken(t, clientId, clientSecret);
  if (res.status !== 200) throw new Error(`token endpoint answered ${res.status}: ${JSON.stringify(res.body)}`);
  return (res.body as { access_token: string }).access_token;
}

/** A service account in the given groups (with the given OAuth scopes, none by default) and a fresh access token for it. */
export async function serviceAccountToken(
  t: TestApp,
  groups: string[] = [],
  name?: string,
  scopes: string[] = [],
): Promise<ServiceAccountCredentials & { token: string }> {
  const account = await createServiceAccount(t, { name, groups, scopes });
  return { ...account, token: await clientToken(t, account.clientId, account.clientSecret) };
}

/** Bearer token of a (new) service account that may use the admin API: admin group and `admin` scope. */
export async function adminToken(t: TestApp): Promise<string> {
  return (await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin'])).token;
}

// ---------------------------------------------------------------------------------------------------------------
// WebAuthn ceremonies through the public HTTP API, driven by a SoftAuthenticator

export interface InviteInput {
  username: string;
  displayName?: string;
  groups?: string[];
}

/** Creates an invite directly through InvitesService; returns its one-time token. */
export async function createInvite(t: TestApp, input: InviteInput): Promise<string> {
  return (await t.app.get(InvitesService).create(TEST_CONTEXT, input)).token;
}

/**
 * Enrolls a new passkey for an invite holder: registration options → authenticator → verify.
 * Returns the 201 body of /v1/registration/verify. Pass `bearer` instead of an invite to add a passkey while signed in.
 */
export async function enrollPasskey(
  t: TestApp,
  authenticator: SoftAuthenticator,
  via: { inviteToken: string } | { bearer: string },
  opts: { label?: string; overrides?: RegistrationOverrides } = {},
): Promise<Record<string, unknown>> {
  const auth = 'bearer' in via ? { Authorization: `Bearer ${via.bearer}` } : {};
  const optionsRes = await t.http
    .post('/v1/registration/options')
    .set(auth)
    .send('inviteToken' in via ? { inviteToken: via.inviteToken } : {});
  if (optionsRes.status !== 200)
    throw new Error(`registration options answered ${optionsRes.status}: ${JSON.stringify(optionsRes.body)}`);
  const response = authenticator.createCredential(
    optionsRes.body as PublicKeyCredentialCreationOptionsJSON,
    { origin: TEST_ORIGIN },
    opts.overrides,
  );
  const verifyRes = await t.http
    .post('/v1/registration/verify')
    .set(auth)
    .send(opts.label === undefined ? { response } : { response, label: opts.label });
  if (verifyRes.status !== 201)
    throw new Error(`registration verify answered ${verifyRes.status}: ${JSON.stringify(verifyRes.body)}`);
  return verifyRes.body as Record<string, unknown>;
}

/** Invite + enrollment in one go: a new user with one passkey. */
export async function enrollUser(
  t: TestApp,
  authenticator: SoftAuthenticator,
  input: InviteInput,
): Promise<Record<string, unknown>> {
  return enrollPasskey(t, authenticator, { inviteToken: await createInvite(t, input) });
}

/** Builds a signed assertion for a fresh challenge (username omitted = usernameless ceremony). */
export async function assertion(
  t: TestApp,
  authenticator: SoftAuthenticator,
  opts: { username?: string; credentialId?: string; overrides?: AssertionOverrides } = {},
): Promise<AuthenticationResponseJSON> {
  const optionsRes = await t.http
    .post('/v1/authentication/options')
    .send(opts.username ? { username: opts.username } : {});
  if (optionsRes.status !== 200)
    throw new Error(`authentication options answered ${optionsRes.status}: ${JSON.stringify(optionsRes.body)}`);
  return authenticator.getAssertion(
    optionsRes.body as PublicKeyCredentialRequestOptionsJSON,
    { origin: TEST_ORIGIN, credentialId: opts.credentialId },
    opts.overrides,
  );
}

/** Signs in with the authenticator and returns the user's access token. */
export async function signIn(
  t: TestApp,
  authenticator: SoftAuthenticator,
  opts: { username?: string; credentialId?: string } = {},
): Promise<string> {
  const response = await assertion(t, authenticator, opts);
  const res = await t.http.post('/v1/authentication/verify').send({ response });
  if (res.status !== 200) throw new Error(`authentication verify answered ${res.status}: ${JSON.stringify(res.body)}`);
  return (res.body as { access_token: string }).access_token;
}

export interface SignedInPerson {
  username: string;
  authenticator: SoftAuthenticator;
  /** A fresh login token (a step-up one when the authenticator verifies the user). */
  token: string;
  id: string;
  /** The passkey the person enrolled and signed in with (the token's passkey_id). */
  passkeyId: string;
}

/** A new person (unique username) with one passkey, signed in. `userVerification: false` never verifies the user. */
export async function signedInPerson(
  t: TestApp,
  opts: { groups?: string[]; userVerification?: boolean } = {},
): Promise<SignedInPerson> {
  const username = `p-${randomBytes(5).toString('hex')}`;
  const authenticator = new SoftAuthenticator({ userVerification: opts.userVerification ?? true });
  await enrollUser(t, authenticator, { username, groups: opts.groups });
  const token = await signIn(t, authenticator, { username });
  const user = await t.app.get(UsersService).resolve(username);
  const [passkey] = await t.app.get(PasskeysService).listForUser(user.id);
  return { username, authenticator, token, id: user.id, passkeyId: passkey!.id };
}
