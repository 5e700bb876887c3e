/**
 * Agents act for a person within what that person approved (issue 20), on the service: agents are service accounts
 * marked as such; a person's user-verified approval creates a delegation; the agent's tokens name the person (`sub`)
 * and the agent (`act`, RFC 8693 §4.1), carry the approved `dag:` scope, are short-lived, and are renewed only with
 * the agent's own client authentication (refresh tokens rotate; a reused one revokes the delegation); a sub-agent's
 * exchange is never wider nor longer nor deeper; Airflow's status read says when a delegation ended and why.
 * SQLite, and PostgreSQL with E2E_DATABASE_URL.
 */
import { decodeJwt } from 'jose';
import { DataSource } from 'typeorm';
import {
  ADMIN_GROUP,
  adminToken,
  createServiceAccount,
  serviceAccountToken,
  signedInPerson,
  SignedInPerson,
  startTestApp,
  TestApp,
  ServiceAccountCredentials,
} from '../support/test-app';

let t: TestApp;
let admin: string;
let reader: string;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const basic = (c: ServiceAccountCredentials) =>
  `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}`;

async function agent(name?: string): Promise<ServiceAccountCredentials> {
  const res = await t.http
    .post('/v1/admin/service-accounts')
    .set(bearer(admin))
    .send({ name: name ?? `agent-${Math.random().toString(36).slice(2, 8)}`, agent: true });
  expect(res.status).toBe(201);
  expect(res.body.agent).toBe(true);
  return res.body;
}

const approve = (p: SignedInPerson, body: Record<string, unknown>) =>
  t.http.post('/v1/me/delegations').set(bearer(p.token)).send(body);

async function approved(
  p: SignedInPerson,
  a: ServiceAccountCredentials,
  scope = 'dag:trigger:id=finance_* dag:read:tag=finance',
) {
  const res = await approve(p, { agent: a.name, scope, days: 7 });
  expect(res.status).toBe(201);
  return res.body as { delegation: { id: string; scope: string; expiresAt: string }; refresh_token: string };
}

const refresh = (client: ServiceAccountCredentials | null, refreshToken: string) => {
  const req = t.http.post('/v1/oauth/token').type('form');
  if (client) req.set('Authorization', basic(client));
  return req.send({ grant_type: 'refresh_token', refresh_token: refreshToken });
};

const exchange = (client: ServiceAccountCredentials, subjectToken: string, scope?: string) =>
  t.http
    .post('/v1/oauth/token')
    .type('form')
    .set('Authorization', basic(client))
    .send({
      grant_type: EXCHANGE,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      ...(scope ? { scope } : {}),
    });

async function tokensFor(p: SignedInPerson, a: ServiceAccountCredentials, scope?: string) {
  const { delegation, refresh_token } = await approved(p, a, scope);
  const res = await refresh(a, refresh_token);
  expect(res.status).toBe(200);
  return { delegation, access: res.body.access_token as string, refreshToken: res.body.refresh_token as string };
}

const status = async (id: string) => {
  const res = await t.http.get(`/v1/admin/delegations/${id}`).set(bearer(reader));
  expect(res.status).toBe(200);
  return res.body as { state: string; endedBecause: string | null; revokedReason: string | null };
};

async function auditEvents(type: string, subjectId: string) {
  const res = await t.http.get('/v1/admin/audit').query({ type, limit: 50 }).set(bearer(admin));
  expect(res.status).toBe(200);
  return (
    res.body.items as { subjectId: string; outcome: string; reason: string | null; details: Record<string, unknown> }[]
  ).filter((e) => e.subjectId === subjectId);
}

const person = () => signedInPerson(t, { groups: ['finance-users'] });

beforeAll(async () => {
  t = await startTestApp({
    RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000',
    // Every test signs a person in (a registration ceremony each): more than the default 60 a minute.
    RATE_LIMIT_CEREMONY_STARTS_PER_MINUTE: '1000',
    WEBAUTHN_USER_VERIFICATION: 'preferred',
    DELEGATION_MAX_DAYS: '10',
  });
  admin = await adminToken(t);
  reader = (await serviceAccountToken(t, [], 'airflow', ['sessions:read'])).token;
});
afterAll(async () => {
  await t?.close();
});

describe('agents', () => {
  it('are service accounts marked agent, listed as such; on their own their token carries no groups', async () => {
    const a = await agent('copilot');
    const list = await t.http.get('/v1/admin/service-accounts').set(bearer(admin));
    expect(list.body).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'copilot', agent: true })]));
    const own = await t.http
      .post('/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: a.clientId, client_secret: a.clientSecret });
    expect(own.status).toBe(200);
    const claims = decodeJwt(own.body.access_token);
    expect(claims.groups).toEqual([]);
    expect(claims.act).toBeUndefined();
    // It cannot ask for a person's DAGs with its own credentials alone.
    const scoped = await t.http.post('/v1/oauth/token').type('form').send({
      grant_type: 'client_credentials',
      client_id: a.clientId,
      client_secret: a.clientSecret,
      scope: 'dag:read:id=*',
    });
    expect(scoped.status).toBe(400);
    expect(scoped.body.error).toBe('invalid_scope');
  });
});

describe('the agents a person may choose (GET /v1/me/agents)', () => {
  it('lists enabled agents by name and client id only: no secret, no disabled agent, no plain service account', async () => {
    const p = await person();
    const live = await agent();
    const off = await agent();
    expect((await t.http.post(`/v1/admin/service-accounts/${off.id}/disable`).set(bearer(admin))).status).toBe(200);
    const plain = await createServiceAccount(t, { groups: ['finance-users'] });
    const res = await t.http.get('/v1/me/agents').set(bearer(p.token));
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const listed = res.body as Record<string, unknown>[];
    expect(listed).toContainEqual({ name: live.name, clientId: live.clientId });
    const names = listed.map((a) => a.name);
    expect(names).not.toContain(off.name);
    expect(names).not.toContain(plain.name);
    for (const item of listed) expect(Object.keys(item).sort()).toEqual(['clientId', 'name']);
  });

  it('answers persons only: a service account is refused', async () => {
    const res = await t.http.get('/v1/me/agents').set(bearer(reader));
    expect(res.status).toBe(403);
  });
});

describe('approving an agent', () => {
  it('needs a fresh, user-verified passkey sign-in; a service account cannot approve', async () => {
    const a = await agent();
    const unverified = await signedInPerson(t, { groups: ['finance-users'], userVerification: false });
    const res = await approve(unverified, { agent: a.name, scope: 'dag:read:id=x' });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('step_up_required');
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    expect(
      (await t.http.post('/v1/me/delegations').set(bearer(sa.token)).send({ agent: a.name, scope: 'dag:read:id=x' }))
        .status,
    ).toBe(403);
  });

  it.each([
    ['a bad scope', { scope: 'dag:write:id=x' }, 400],
    ['a scope that is not dag access', { scope: 'sessions:read' }, 400],
    ['more days than DELEGATION_MAX_DAYS', { scope: 'dag:read:id=x', days: 11 }, 400],
    ['zero days', { scope: 'dag:read:id=x', days: 0 }, 400],
  ])('refuses %s with a 4xx and stores nothing', async (_what, body, statusCode) => {
    const p = await person();
    const a = await agent();
    const res = await approve(p, { agent: a.name, ...body });
    expect(res.status).toBe(statusCode);
    expect((await t.http.get('/v1/me/delegations').set(bearer(p.token))).body).toEqual([]);
  });

  it('refuses an account that is not an agent, an unknown agent, and a person with no groups (no Airflow role)', async () => {
    const p = await person();
    const plain = await createServiceAccount(t, { groups: ['finance-users'] });
    expect((await approve(p, { agent: plain.name, scope: 'dag:read:id=x' })).status).toBe(400);
    expect((await approve(p, { agent: 'nobody-here', scope: 'dag:read:id=x' })).status).toBe(400);
    const roleless = await signedInPerson(t, { groups: [] });
    const res = await approve(roleless, { agent: (await agent()).name, scope: 'dag:read:id=x' });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('forbidden');
  });

  it('stores the canonical scope, caps the lifetime, lists it for the person and audits the approval', async () => {
    const p = await person();
    const a = await agent();
    const res = await approve(p, {
      agent: a.clientId,
      scope: 'dag:read:tag=finance dag:trigger:id=finance_* dag:read:tag=finance',
    });
    expect(res.status).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const { delegation, refresh_token } = res.body;
    expect(delegation).toMatchObject({
      state: 'live',
      scope: 'dag:read:tag=finance dag:trigger:id=finance_*',
      depth: 1,
      username: p.username,
    });
    expect(Date.parse(delegation.expiresAt) - Date.now()).toBeLessThanOrEqual(10 * 86_400_000);
    expect(Date.parse(delegation.expiresAt) - Date.now()).toBeGreaterThan(9.9 * 86_400_000);
    expect(refresh_token).toMatch(/^afdr_/);
    const rows = await t.app.get(DataSource).query('SELECT token_hash FROM delegation_refresh_tokens');
    expect(JSON.stringify(rows)).not.toContain(refresh_token.slice(5));
    const list = await t.http.get('/v1/me/delegations').set(bearer(p.token));
    expect(list.body).toEqual([expect.objectContaining({ id: delegation.id, agentName: a.name })]);
    const [event] = await auditEvents('delegation.approved', delegation.id);
    expect(event!.details).toMatchObject({
      person: p.username,
      agent: a.name,
      scope: delegation.scope,
      passkeyId: p.passkeyId,
    });
    expect(JSON.stringify(event)).not.toContain(refresh_token.slice(5));
  });
});

describe('delegated tokens', () => {
  it('name the person as sub and the agent as act, carry scope and delegation_id, live minutes, and are audited', async () => {
    const p = await person();
    const a = await agent();
    const { delegation, access, refreshToken } = await tokensFor(p, a);
    const claims = decodeJwt(access);
    expect(claims).toMatchObject({
      sub: p.id,
      act: { sub: a.clientId },
      client_id: a.clientId,
      scope: 'dag:read:tag=finance dag:trigger:id=finance_*',
      delegation_id: delegation.id,
      preferred_username: p.username,
      agent_name: a.name,
      groups: ['finance-users'],
    });
    expect(claims.exp! - claims.iat!).toBeLessThanOrEqual(600);
    expect(refreshToken).toMatch(/^afdr_/);
    const [issued] = await auditEvents('delegation.token_issued', delegation.id);
    expect(issued!.details).toMatchObject({
      grant: 'refresh_token',
      person: p.username,
      agent: a.name,
      scope: claims.scope,
    });
  });

  it('are not the person on the service: a delegated token cannot use /v1/me', async () => {
    const { access } = await tokensFor(await person(), await agent());
    const res = await t.http.get('/v1/me').set(bearer(access));
    expect(res.status).toBe(401);
  });
});

describe('refresh tokens', () => {
  it("are bound to the agent's client authentication: another client's or none is refused, and does not burn it", async () => {
    const p = await person();
    const a = await agent();
    const other = await agent();
    const { refresh_token } = await approved(p, a);
    const stolen = await refresh(other, refresh_token);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    const anonymous = await refresh(null, refresh_token);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toBe('invalid_client');
    const wrongSecret = await refresh({ ...a, clientSecret: 'nope' }, refresh_token);
    expect(wrongSecret.body.error).toBe('invalid_client');
    const refusedEvents = await t.http
      .get('/v1/admin/audit')
      .query({ type: 'token.issued', outcome: 'failure', limit: 50 })
      .set(bearer(admin));
    expect(refusedEvents.body.items).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ reason: 'bad_secret', details: { clientId: a.clientId, grant: 'refresh_token' } }),
      ]),
    );
    expect((await refresh(a, refresh_token)).status).toBe(200);
  });

  it('rotate on use; a used one presented again revokes the delegation and everything under it', async () => {
    const p = await person();
    const a = await agent();
    const { delegation, refresh_token } = await approved(p, a);
    const first = await refresh(a, refresh_token);
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(refresh_token);
    const replay = await refresh(a, refresh_token);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(await status(delegation.id)).toMatchObject({ state: 'revoked', revokedReason: 'refresh_token_reuse' });
    expect((await refresh(a, first.body.refresh_token)).body.error).toBe('invalid_grant');
    expect((await auditEvents('delegation.revoked', delegation.id))[0]).toMatchObject({
      reason: 'refresh_token_reuse',
    });
  });
});

describe('token exchange for a sub-agent', () => {
  it('gives a narrower token with nested act, never longer than the parent', async () => {
    const p = await person();
    const a = await agent();
    const sub = await agent();
    const { delegation, access } = await tokensFor(p, a);
    const res = await exchange(sub, access, 'dag:trigger:id=finance_daily');
    expect(res.status).toBe(200);
    expect(res.body.issued_token_type).toBe(ACCESS_TOKEN_TYPE);
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      sub: p.id,
      act: { sub: sub.clientId, act: { sub: a.clientId } },
      scope: 'dag:trigger:id=finance_daily',
    });
    const child = await status(claims.delegation_id as string);
    expect(child).toMatchObject({ state: 'live', depth: 2, parentId: delegation.id, expiresAt: delegation.expiresAt });
    expect((await auditEvents('delegation.exchanged', claims.delegation_id as string))[0]!.details).toMatchObject({
      person: p.username,
      agent: sub.name,
      parentAgent: a.name,
    });
  });

  it('refuses a wider scope (invalid_scope), a third level (invalid_grant), and a token that is not delegated', async () => {
    const p = await person();
    const a = await agent();
    const sub = await agent();
    const { access } = await tokensFor(p, a, 'dag:trigger:id=finance_*');
    for (const wider of [
      'dag:trigger:id=*',
      'dag:clear:id=finance_daily',
      'dag:trigger:tag=finance',
      'dag:trigger:id=finance_* dag:read:id=x',
    ]) {
      const res = await exchange(sub, access, wider);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    }
    const child = await exchange(sub, access, 'dag:trigger:id=finance_daily');
    const third = await exchange(await agent(), child.body.access_token, 'dag:trigger:id=finance_daily');
    expect(third.status).toBe(400);
    expect(third.body.error).toBe('invalid_grant');
    const own = await serviceAccountToken(t, ['finance-users']);
    const notDelegated = await exchange(sub, own.token);
    expect(notDelegated.body.error).toBe('invalid_grant');
    expect((await exchange(sub, 'not-a-jwt')).body.error).toBe('invalid_grant');
  });
});

describe('ending a delegation (what Airflow re-checks)', () => {
  it('the person revokes it: revoked, the sub-agent share too, and refreshing fails', async () => {
    const p = await person();
    const a = await agent();
    const { delegation, access, refreshToken } = await tokensFor(p, a);
    const child = decodeJwt((await exchange(await agent(), access, 'dag:read:tag=finance')).body.access_token);
    const res = await t.http.delete(`/v1/me/delegations/${delegation.id}`).set(bearer(p.token));
    expect(res.status).toBe(200);
    expect(res.body.state).toBe('revoked');
    expect((await status(child.delegation_id as string)).state).toBe('revoked');
    expect((await refresh(a, refreshToken)).body.error).toBe('invalid_grant');
    expect((await auditEvents('delegation.revoked', delegation.id))[0]!.details).toMatchObject({
      person: p.username,
      agent: a.name,
    });
    // Nobody else's: another person gets a 404.
    const other = await person();
    expect((await t.http.delete(`/v1/me/delegations/${delegation.id}`).set(bearer(other.token))).status).toBe(404);
  });

  it('an admin lists per person and per agent, and revokes', async () => {
    const p = await person();
    const a = await agent();
    const { delegation, refresh_token } = await approved(p, a);
    const never = await t.http.get('/v1/admin/delegations').query({ user: p.username }).set(bearer(admin));
    expect(never.body[0].lastRefreshedAt).toBeNull();
    const before = Date.now();
    expect((await refresh(a, refresh_token)).status).toBe(200);
    const byPerson = await t.http.get('/v1/admin/delegations').query({ user: p.username }).set(bearer(admin));
    expect(byPerson.body.map((d: { id: string }) => d.id)).toEqual([delegation.id]);
    expect(Date.parse(byPerson.body[0].lastRefreshedAt)).toBeGreaterThanOrEqual(before - 1000);
    const byAgent = await t.http.get('/v1/admin/delegations').query({ agent: a.name }).set(bearer(admin));
    expect(byAgent.body.map((d: { id: string }) => d.id)).toEqual([delegation.id]);
    expect((await t.http.get('/v1/admin/delegations').set(bearer(reader))).status).toBe(403);
    expect((await t.http.delete(`/v1/admin/delegations/${delegation.id}`).set(bearer(reader))).status).toBe(403);
    const revoked = await t.http.delete(`/v1/admin/delegations/${delegation.id}`).set(bearer(admin));
    expect(revoked.body).toMatchObject({ state: 'revoked', revokedReason: 'admin' });
  });

  it.each([
    ['the agent is disabled', 'agent_disabled'],
    ['the person is disabled', 'person_disabled'],
    ['the approving passkey is revoked', 'passkey_revoked'],
  ])('%s: ended, and refreshing fails', async (_what, because) => {
    const p = await person();
    await signedInPerson(t, { groups: ['finance-users'] }); // keeps someone else around
    const a = await agent();
    const { delegation, refreshToken } = await tokensFor(p, a);
    const path =
      because === 'agent_disabled'
        ? `/v1/admin/service-accounts/${a.id}/disable`
        : because === 'person_disabled'
          ? `/v1/admin/users/${p.id}/disable`
          : null;
    const res = path
      ? await t.http.post(path).set(bearer(admin))
      : await t.http.delete(`/v1/admin/passkeys/${p.passkeyId}`).set(bearer(admin));
    expect(res.status).toBe(200);
    expect(await status(delegation.id)).toMatchObject({ state: 'ended', endedBecause: because });
    expect((await refresh(a, refreshToken)).status).toBeGreaterThanOrEqual(400);
  });

  it.each([
    ['person', 'users', 'person_sessions_ended'],
    ['agent', 'service-accounts', 'agent_sessions_ended'],
  ])('a disabled %s enabled again does not bring the delegation back (ended for good)', async (_who, kind, because) => {
    const p = await person();
    const a = await agent();
    const { delegation, refreshToken } = await tokensFor(p, a);
    const id = kind === 'users' ? p.id : a.id;
    expect((await t.http.post(`/v1/admin/${kind}/${id}/disable`).set(bearer(admin))).status).toBe(200);
    expect((await t.http.post(`/v1/admin/${kind}/${id}/enable`).set(bearer(admin))).status).toBe(200);
    expect(await status(delegation.id)).toMatchObject({ state: 'ended', endedBecause: because });
    expect((await refresh(a, refreshToken)).status).toBeGreaterThanOrEqual(400);
  });

  it('expires: expired, and refreshing fails', async () => {
    const p = await person();
    const a = await agent();
    const { delegation, refreshToken } = await tokensFor(p, a);
    await t.app
      .get(DataSource)
      .query(`UPDATE delegations SET expires_at = ${Date.now() - 1000} WHERE id = '${delegation.id}'`);
    expect((await status(delegation.id)).state).toBe('expired');
    expect((await refresh(a, refreshToken)).body.error).toBe('invalid_grant');
  });
});

describe('an agent asks through the device flow (RFC 8628)', () => {
  const ask = (a: ServiceAccountCredentials, scope?: string) =>
    t.http
      .post('/v1/oauth/device_authorization')
      .type('form')
      .set('Authorization', basic(a))
      .send(scope === undefined ? {} : { scope });
  const poll = (a: ServiceAccountCredentials, deviceCode: string) =>
    t.http
      .post('/v1/oauth/token')
      .type('form')
      .set('Authorization', basic(a))
      .send({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: deviceCode });

  it('the person sees the exact access asked, approves with a passkey, and the agent gets a delegated token', async () => {
    const p = await person();
    const a = await agent('copilot-device');
    const started = await ask(a, 'dag:read:tag=finance dag:trigger:id=finance_*');
    expect(started.status).toBe(200);
    const shown = await t.http.get(`/v1/me/device-requests/${started.body.user_code}`).set(bearer(p.token));
    expect(shown.body).toMatchObject({
      kind: 'agent',
      clientName: 'copilot-device',
      scope: 'dag:read:tag=finance dag:trigger:id=finance_*',
      state: 'pending',
    });
    expect((await poll(a, started.body.device_code)).body.error).toBe('authorization_pending');
    // The poll above set the pace: the next one must wait the interval, so move the last poll back.
    await t.app
      .get(DataSource)
      .query(
        `UPDATE device_authorizations SET last_polled_at = ${Date.now() - 60_000} WHERE user_code = '${started.body.user_code.replace('-', '')}'`,
      );
    const approvedRes = await t.http
      .post(`/v1/me/device-requests/${started.body.user_code}/approve`)
      .set(bearer(p.token))
      .send({});
    expect(approvedRes.status).toBe(200);
    const res = await poll(a, started.body.device_code);
    expect(res.status).toBe(200);
    expect(res.body.refresh_token).toMatch(/^afdr_/);
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      sub: p.id,
      act: { sub: a.clientId },
      scope: 'dag:read:tag=finance dag:trigger:id=finance_*',
      agent_name: 'copilot-device',
    });
    expect(await status(claims.delegation_id as string)).toMatchObject({ state: 'live', username: p.username });
    const [issued] = await auditEvents('delegation.token_issued', claims.delegation_id as string);
    expect(issued!.details).toMatchObject({ grant: 'device_code', person: p.username });
    // No command line was signed in: the agent is not the person.
    expect((await t.http.get('/v1/me/cli-codes').set(bearer(p.token))).body).toEqual([]);
    // Once only.
    expect((await poll(a, started.body.device_code)).body.error).toBe('invalid_grant');
    expect((await refresh(a, res.body.refresh_token)).status).toBe(200);
  });

  /** Starts a request, lets the next poll through at once (the test does not wait the interval), returns it. */
  async function asked(a: ServiceAccountCredentials, scope = 'dag:read:id=x') {
    const started = await ask(a, scope);
    expect(started.status).toBe(200);
    return started.body as { user_code: string; device_code: string };
  }
  const approveCode = (p: SignedInPerson, userCode: string, body: Record<string, unknown>) =>
    t.http.post(`/v1/me/device-requests/${userCode}/approve`).set(bearer(p.token)).send(body);

  it('the person chooses the days: the view offers DELEGATION_MAX_DAYS, the delegation ends after the days chosen', async () => {
    const p = await person();
    const a = await agent();
    const started = await asked(a);
    const shown = await t.http.get(`/v1/me/device-requests/${started.user_code}`).set(bearer(p.token));
    expect(shown.body).toMatchObject({ kind: 'agent', maxDays: 10, days: null });
    const before = Date.now();
    const res = await approveCode(p, started.user_code, { days: 3 });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ state: 'approved', days: 3, maxDays: 10 });
    const polled = await poll(a, started.device_code);
    expect(polled.status).toBe(200);
    const claims = decodeJwt(polled.body.access_token);
    const ends = Date.parse(
      ((await status(claims.delegation_id as string)) as unknown as { expiresAt: string }).expiresAt,
    );
    expect(ends).toBeGreaterThanOrEqual(before + 3 * 86_400_000 - 5_000);
    expect(ends).toBeLessThanOrEqual(Date.now() + 3 * 86_400_000 + 5_000);
    const [event] = await auditEvents('device.approved', p.id);
    expect(event!.details).toMatchObject({ days: 3 });
  });

  it('without days the approval lasts DELEGATION_MAX_DAYS', async () => {
    const p = await person();
    const a = await agent();
    const started = await asked(a);
    expect((await approveCode(p, started.user_code, {})).body).toMatchObject({ days: 10 });
  });

  it('refuses more days than DELEGATION_MAX_DAYS, zero, a fraction and text with 400, and the request stays pending', async () => {
    const p = await person();
    const a = await agent();
    const started = await asked(a);
    for (const days of [11, 0, 1.5, 'many', -1]) {
      const res = await approveCode(p, started.user_code, { days });
      expect(res.status).toBe(400);
    }
    const shown = await t.http.get(`/v1/me/device-requests/${started.user_code}`).set(bearer(p.token));
    expect(shown.body.state).toBe('pending');
    expect((await poll(a, started.device_code)).body.error).toBe('authorization_pending');
  });

  it("refuses days on a command line's request (it signs in as the person, it has no duration)", async () => {
    const p = await person();
    const started = await t.http.post('/v1/oauth/device_authorization').type('form').send({ client_id: 'airflow-cli' });
    expect(started.status).toBe(200);
    const shown = await t.http.get(`/v1/me/device-requests/${started.body.user_code}`).set(bearer(p.token));
    expect(shown.body).toMatchObject({ kind: 'command_line', maxDays: null });
    const res = await approveCode(p, started.body.user_code, { days: 2 });
    expect(res.status).toBe(400);
    expect((await approveCode(p, started.body.user_code, {})).status).toBe(200);
  });

  it('refuses an agent asking for nothing or for a bad scope, and a plain service account asking for dag access', async () => {
    const a = await agent();
    for (const scope of [undefined, 'dag:write:id=x', 'dag:read:id=a[b]']) {
      const res = await ask(a, scope);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_scope');
    }
    const plain = await createServiceAccount(t, { groups: ['finance-users'] });
    const res = await ask(plain, 'dag:read:id=x');
    expect(res.body.error).toBe('invalid_scope');
  });

  it('a person with no groups approves in vain: the agent gets invalid_grant, no delegation', async () => {
    const roleless = await signedInPerson(t, { groups: [] });
    const a = await agent();
    const started = await ask(a, 'dag:read:id=x');
    expect(
      (
        await t.http
          .post(`/v1/me/device-requests/${started.body.user_code}/approve`)
          .set(bearer(roleless.token))
          .send({})
      ).status,
    ).toBe(200);
    const res = await poll(a, started.body.device_code);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect((await t.http.get('/v1/me/delegations').set(bearer(roleless.token))).body).toEqual([]);
  });
});
