/**
 * OAuth scopes on service accounts. `sessions:read` (Airflow's own credential) reads user, passkey and
 * service-account status and nothing else; `admin` is the admin API while the account is in an admin group; no
 * scope, no admin API. Scopes are re-read on every request.
 */
import { decodeJwt } from 'jose';
import { DataSource } from 'typeorm';
import { ServiceAccountsService } from '@app/accounts';
import { TokenIssuerService } from '@app/tokens';
import { ADMIN_ROUTES, AdminRoute, routePath } from '../support/admin-routes';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  ADMIN_GROUP,
  createInvite,
  enrollUser,
  serviceAccountToken,
  signIn,
  startTestApp,
  TestApp,
} from '../support/test-app';

let t: TestApp;
let admin: string;
/** Real records for every `:id`, so a request that got past authorization would really change something. */
const ids = { user: '', passkey: '', invite: '', account: '' };

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

function pathFor(route: AdminRoute): string {
  const id = route.pattern.startsWith('/v1/admin/users')
    ? ids.user
    : route.pattern.startsWith('/v1/admin/passkeys')
      ? ids.passkey
      : route.pattern.startsWith('/v1/admin/invites')
        ? ids.invite
        : ids.account;
  return routePath(route, id);
}

/** A body each mutation would accept, so a 403 is the guard's and not the validator's. */
function bodyFor(route: AdminRoute): object {
  if (route.method === 'patch' && route.pattern.startsWith('/v1/admin/users')) return { groups: [ADMIN_GROUP] };
  if (route.method === 'patch') return { label: 'taken over' };
  if (route.pattern === '/v1/admin/invites') return { username: 'intruder' };
  if (route.pattern === '/v1/admin/service-accounts')
    return { name: 'intruder', groups: [ADMIN_GROUP], scopes: ['admin'] };
  return {};
}

beforeAll(async () => {
  t = await startTestApp();
  admin = (await serviceAccountToken(t, [ADMIN_GROUP], 'scopes-admin', ['admin'])).token;
  const alice = new SoftAuthenticator();
  await enrollUser(t, alice, { username: 'alice', groups: ['ops'] });
  await signIn(t, alice, { username: 'alice' });
  const detail = (await t.http.get('/v1/admin/users/alice').set(bearer(admin))).body;
  ids.user = detail.id;
  ids.passkey = detail.passkeys[0].id;
  await createInvite(t, { username: 'bob' });
  ids.invite = (await t.http.get('/v1/admin/invites').set(bearer(admin))).body[0].id;
  ids.account = (await serviceAccountToken(t, ['ops'], 'some-job')).id;
});
afterAll(async () => {
  await t?.close();
});

describe('sessions:read (the credential Airflow needs)', () => {
  let reader: string;
  beforeAll(async () => {
    reader = (await serviceAccountToken(t, [], 'airflow', ['sessions:read'])).token;
  });

  it('reads user (with passkey) and service-account status without being in an admin group', async () => {
    const user = await t.http.get(`/v1/admin/users/${ids.user}`).set(bearer(reader));
    expect(user.status).toBe(200);
    expect(user.body).toMatchObject({ id: ids.user, username: 'alice', disabled: false, groups: ['ops'] });
    expect(user.body.passkeys[0]).toMatchObject({
      id: ids.passkey,
      revokedAt: null,
      flaggedAt: null,
      flagReason: null,
    });
    expect((await t.http.get('/v1/admin/users/alice').set(bearer(reader))).status).toBe(200);
    const accounts = await t.http.get('/v1/admin/service-accounts').set(bearer(reader));
    expect(accounts.status).toBe(200);
    expect(accounts.body.find((a: { id: string }) => a.id === ids.account)).toMatchObject({
      disabled: false,
      clientId: expect.any(String),
    });
  });

  it('answers 403 insufficient_scope to EVERY admin mutation and every other admin read, and changes nothing', async () => {
    const refused = ADMIN_ROUTES.filter((r) => r.kind !== 'status-read');
    expect(refused.filter((r) => r.kind === 'mutation').length).toBeGreaterThanOrEqual(12);
    for (const route of refused) {
      const res = await t.http[route.method](pathFor(route)).set(bearer(reader)).send(bodyFor(route));
      expect({ route: `${route.method} ${route.pattern}`, status: res.status, code: res.body.code }).toEqual({
        route: `${route.method} ${route.pattern}`,
        status: 403,
        code: 'insufficient_scope',
      });
    }
    const alice = (await t.http.get(`/v1/admin/users/${ids.user}`).set(bearer(admin))).body;
    expect(alice).toMatchObject({
      groups: ['ops'],
      disabled: false,
      passkeys: [expect.objectContaining({ revokedAt: null, label: expect.not.stringMatching(/taken over/) })],
    });
    const invites = (await t.http.get('/v1/admin/invites').set(bearer(admin))).body as Array<{
      id: string;
      state: string;
      username: string;
    }>;
    expect(invites.find((i) => i.id === ids.invite)!.state).toBe('pending');
    expect(invites.map((i) => i.username)).not.toContain('intruder');
    const accounts = (await t.http.get('/v1/admin/service-accounts').set(bearer(admin))).body as Array<{
      id: string;
      name: string;
      disabled: boolean;
    }>;
    expect(accounts.map((a) => a.name)).not.toContain('intruder');
    expect(accounts.find((a) => a.id === ids.account)!.disabled).toBe(false);
  });

  it('being in an admin group adds nothing to sessions:read', async () => {
    const grouped = (await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['sessions:read'])).token;
    expect((await t.http.get(`/v1/admin/users/${ids.user}`).set(bearer(grouped))).status).toBe(200);
    expect((await t.http.post('/v1/admin/keys/rotate').set(bearer(grouped))).body.code).toBe('insufficient_scope');
  });
});

describe('admin scope, no scope', () => {
  it('admin works only while the account is in an admin group', async () => {
    const outsider = (await serviceAccountToken(t, ['ops'], undefined, ['admin'])).token;
    for (const path of ['/v1/admin/keys', `/v1/admin/users/${ids.user}`]) {
      const res = await t.http.get(path).set(bearer(outsider));
      expect({ path, status: res.status, code: res.body.code }).toEqual({ path, status: 403, code: 'forbidden' });
    }
  });

  it('an account without scopes has no admin API, not even status reads, whatever its groups', async () => {
    const plain = (await serviceAccountToken(t, [ADMIN_GROUP])).token;
    for (const route of ADMIN_ROUTES) {
      const res = await t.http[route.method](pathFor(route)).set(bearer(plain)).send(bodyFor(route));
      expect({ route: route.pattern, status: res.status, code: res.body.code }).toEqual({
        route: route.pattern,
        status: 403,
        code: 'insufficient_scope',
      });
    }
  });

  it("removing a scope takes effect on the account's current token", async () => {
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin', 'sessions:read']);
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).status).toBe(200);
    await t.app.get(DataSource).query(`UPDATE service_accounts SET scopes = '["sessions:read"]' WHERE id = '${sa.id}'`);
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).status).toBe(403);
    expect((await t.http.get(`/v1/admin/users/${ids.user}`).set(bearer(sa.token))).status).toBe(200);
  });
});

describe('tokens carry scope (RFC 9068)', () => {
  it('a token issued with fewer scopes than the account holds never gains the others', async () => {
    const account = await t.app
      .get(ServiceAccountsService)
      .resolve((await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin', 'sessions:read'])).id);
    const narrow = await t.app.get(TokenIssuerService).issueServiceToken({
      accountId: account.id,
      name: account.name,
      clientId: account.clientId,
      groups: account.groups,
      scopes: ['sessions:read'],
      sessionGeneration: 0,
    });
    expect(decodeJwt(narrow.access_token).scope).toBe('sessions:read');
    expect((await t.http.get(`/v1/admin/users/${ids.user}`).set(bearer(narrow.access_token))).status).toBe(200);
    expect((await t.http.get('/v1/admin/keys').set(bearer(narrow.access_token))).status).toBe(403);
    const full = await t.app.get(TokenIssuerService).issueServiceToken({
      accountId: account.id,
      name: account.name,
      clientId: account.clientId,
      groups: account.groups,
      scopes: account.scopes,
      sessionGeneration: 0,
    });
    expect(decodeJwt(full.access_token).scope).toBe('admin sessions:read');
    expect((await t.http.get('/v1/admin/keys').set(bearer(full.access_token))).status).toBe(200);
  });
});

describe('the token endpoint grants scopes (RFC 6749 §3.3)', () => {
  const grant = (clientId: string, clientSecret: string, scope?: string) =>
    t.http
      .post('/v1/oauth/token')
      .type('form')
      .send({
        grant_type: 'client_credentials',
        client_id: clientId,
        client_secret: clientSecret,
        ...(scope === undefined ? {} : { scope }),
      });

  it("without a scope request the token carries all of the account's scopes, and an account without scopes gets an empty scope", async () => {
    const both = await serviceAccountToken(t, [], 'grant-both', ['admin', 'sessions:read']);
    expect(decodeJwt((await grant(both.clientId, both.clientSecret)).body.access_token).scope).toBe(
      'admin sessions:read',
    );
    const none = await serviceAccountToken(t, ['ops'], 'grant-none');
    expect(decodeJwt((await grant(none.clientId, none.clientSecret)).body.access_token).scope).toBe('');
  });

  it('a requested subset is granted and is all the token can do', async () => {
    const account = await serviceAccountToken(t, [ADMIN_GROUP], 'grant-subset', ['admin', 'sessions:read']);
    const res = await grant(account.clientId, account.clientSecret, 'sessions:read');
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token).scope).toBe('sessions:read');
    // The response says what was granted (RFC 6749 §5.1), as the token does: Airflow checks it at start-up.
    expect(res.body.scope).toBe('sessions:read');
    expect((await t.http.get('/v1/admin/keys').set(bearer(res.body.access_token))).status).toBe(403);
  });

  it('refuses with invalid_scope a scope the account does not hold, or a malformed one, and issues nothing', async () => {
    const account = await serviceAccountToken(t, [ADMIN_GROUP], 'grant-beyond', ['sessions:read']);
    for (const scope of ['admin', 'sessions:read admin', 'sessions:read "x"']) {
      const res = await grant(account.clientId, account.clientSecret, scope);
      expect({ scope, status: res.status, error: res.body.error, token: res.body.access_token }).toEqual({
        scope,
        status: 400,
        error: 'invalid_scope',
        token: undefined,
      });
    }
  });

  it('a wrong secret with a scope is still invalid_client: the scope says nothing about the client', async () => {
    const account = await serviceAccountToken(t, [], 'grant-wrong', ['sessions:read']);
    const res = await grant(account.clientId, 'wrong', 'admin');
    expect([res.status, res.body.error]).toEqual([401, 'invalid_client']);
  });
});

describe('creating accounts with scopes', () => {
  it('the admin API takes scopes, shows them, and refuses unknown ones with 400', async () => {
    const created = await t.http
      .post('/v1/admin/service-accounts')
      .set(bearer(admin))
      .send({ name: 'airflow-status', scopes: ['sessions:read'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'airflow-status', groups: [], scopes: ['sessions:read'] });
    const listed = (await t.http.get('/v1/admin/service-accounts').set(bearer(admin))).body.find(
      (a: { name: string }) => a.name === 'airflow-status',
    );
    expect(listed.scopes).toEqual(['sessions:read']);
    const [event] = (
      await t.http.get('/v1/admin/audit').query({ type: 'service_account.created', limit: 1 }).set(bearer(admin))
    ).body.items;
    expect(event.details).toMatchObject({ scopes: ['sessions:read'] });
    for (const scopes of [['sessions:write'], ['admin', 'root'], 'admin', [42]]) {
      const res = await t.http
        .post('/v1/admin/service-accounts')
        .set(bearer(admin))
        .send({ name: 'bad-scope', scopes });
      expect({ scopes, status: res.status }).toEqual({ scopes, status: 400 });
    }
    expect(
      (await t.http.get('/v1/admin/service-accounts').set(bearer(admin))).body.map((a: { name: string }) => a.name),
    ).not.toContain('bad-scope');
  });
});
