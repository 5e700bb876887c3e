/**
 * The admin API (/v1/admin) and the self-service API (/v1/me) end to end: real app, real database, real tokens,
 * real passkey ceremonies through SoftAuthenticator.
 */
import { randomUUID } from 'node:crypto';
import { generateKeyPair, SignJWT } from 'jose';
import { KeyStoreService } from '@app/tokens';
import { authenticatorName } from '@app/webauthn';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  ADMIN_GROUP,
  clientToken,
  createInvite,
  enrollPasskey,
  enrollUser,
  requestClientToken,
  serviceAccountToken,
  signIn,
  startTestApp,
  TestApp,
} from '../support/test-app';

const YUBIKEY = 'cb69481e-8ff7-4039-93ec-0a2729a154a8';

let t: TestApp;
let admin: { id: string; token: string };

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const kidOf = (jwt: string): string => JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()).kid;

async function events(query: Record<string, string | number>) {
  const res = await t.http.get('/v1/admin/audit').query(query).set(bearer(admin.token));
  expect(res.status).toBe(200);
  return res.body.items as Array<Record<string, unknown>>;
}

/** The newest event of a type must name the admin as actor, the subject, and where the call came from. */
async function expectAudited(type: string, subjectId: string) {
  const [event] = await events({ type, limit: 1 });
  expect(event).toMatchObject({ type, outcome: 'success', actorType: 'service_account', actorId: admin.id, subjectId });
  expect(event!.clientIp).toEqual(expect.any(String));
}

/** supertest buffers only text and JSON bodies: collect the NDJSON stream by hand. */
async function exportNdjson(query: Record<string, string>) {
  const res = await t.http
    .get('/v1/admin/audit/export')
    .query(query)
    .set(bearer(admin.token))
    .buffer(true)
    .parse((r, cb) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString()));
      r.on('end', () => cb(null, text));
    });
  const body = typeof res.body === 'string' ? res.body : '';
  return { status: res.status, headers: res.headers, lines: body.split('\n').filter(Boolean) };
}

beforeAll(async () => {
  t = await startTestApp();
  admin = await serviceAccountToken(t, [ADMIN_GROUP], 'e2e-admin', ['admin']);
});
afterAll(async () => {
  await t?.close();
});

describe('admin access control', () => {
  it('answers 401 without a token and with a malformed Authorization header', async () => {
    for (const headers of [{}, { Authorization: 'Basic Zm9vOmJhcg==' }, { Authorization: 'Bearer not a token' }]) {
      const res = await t.http.get('/v1/admin/users').set(headers);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', message: expect.any(String) });
    }
  });

  it('answers 403 to a valid token outside the admin groups, person or service account', async () => {
    const outsider = await serviceAccountToken(t, ['data-team']);
    expect((await t.http.get('/v1/admin/users').set(bearer(outsider.token))).status).toBe(403);
    const person = new SoftAuthenticator();
    await enrollUser(t, person, { username: 'nonadmin', groups: ['viewers'] });
    const res = await t.http.post('/v1/admin/keys/rotate').set(bearer(await signIn(t, person)));
    expect(res.status).toBe(403);
    expect(res.body.message).toContain(ADMIN_GROUP);
  });

  it('guards every admin route: 401 without a token, 403 for a non-admin, before any input is read', async () => {
    const outsider = await serviceAccountToken(t, ['data-team']);
    const id = randomUUID();
    const routes: Array<['get' | 'post' | 'patch' | 'delete', string]> = [
      ['get', '/v1/admin/users'],
      ['get', `/v1/admin/users/${id}`],
      ['patch', `/v1/admin/users/${id}`],
      ['post', `/v1/admin/users/${id}/disable`],
      ['post', `/v1/admin/users/${id}/enable`],
      ['get', `/v1/admin/users/${id}/passkeys`],
      ['patch', `/v1/admin/passkeys/${id}`],
      ['delete', `/v1/admin/passkeys/${id}`],
      ['post', '/v1/admin/invites'],
      ['get', '/v1/admin/invites'],
      ['delete', `/v1/admin/invites/${id}`],
      ['post', '/v1/admin/service-accounts'],
      ['get', '/v1/admin/service-accounts'],
      ['post', `/v1/admin/service-accounts/${id}/rotate-secret`],
      ['post', `/v1/admin/service-accounts/${id}/disable`],
      ['post', `/v1/admin/service-accounts/${id}/enable`],
      ['get', '/v1/admin/keys'],
      ['post', '/v1/admin/keys/rotate'],
      ['get', '/v1/admin/audit'],
      ['get', '/v1/admin/audit/export'],
      ['get', '/v1/admin/audit/verify'],
    ];
    for (const [method, path] of routes) {
      expect({ path, status: (await t.http[method](path).send({})).status }).toEqual({ path, status: 401 });
      expect({ path, status: (await t.http[method](path).set(bearer(outsider.token)).send({})).status }).toEqual({
        path,
        status: 403,
      });
    }
  });

  it('refuses a token signed by a foreign key even when it copies a published kid and claims admin', async () => {
    const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const now = Math.floor(Date.now() / 1000);
    const forged = await new SignJWT({ client_id: 'sa_forged', groups: [ADMIN_GROUP] })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: kidOf(admin.token) })
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setSubject(admin.id)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(privateKey);
    expect((await t.http.get('/v1/admin/users').set(bearer(forged))).status).toBe(401);
  });

  it('refuses an expired token signed with the real active key', async () => {
    const key = await t.app.get(KeyStoreService).signingKey();
    const then = Math.floor(Date.now() / 1000) - 3600;
    const expired = await new SignJWT({ client_id: 'sa_x', groups: [ADMIN_GROUP] })
      .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid })
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setSubject(admin.id)
      .setIssuedAt(then)
      .setNotBefore(then)
      .setExpirationTime(then + 600)
      .setJti(randomUUID())
      .sign(key.privateKey);
    const res = await t.http.get('/v1/admin/users').set(bearer(expired));
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/expired/);
  });
});

describe('users and passkeys', () => {
  const alice = new SoftAuthenticator({ aaguid: YUBIKEY });
  let aliceId: string;
  let passkeyId: string;

  beforeAll(async () => {
    await enrollUser(t, alice, { username: 'alice', displayName: 'Alice A.', groups: ['data-team'] });
    await signIn(t, alice, { username: 'alice' });
  });

  it('lists users without handles, hashes or keys', async () => {
    const res = await t.http.get('/v1/admin/users').set(bearer(admin.token));
    expect(res.status).toBe(200);
    const row = res.body.find((u: { username: string }) => u.username === 'alice');
    expect(Object.keys(row).sort()).toEqual([
      'createdAt',
      'disabled',
      'displayName',
      'groups',
      'id',
      'idp',
      'lastIdpLoginAt',
      'lastLoginAt',
      'lastLoginMethod',
      'sessionGeneration',
      'sessionsEndedAt',
      'sessionsEndedReason',
      'username',
    ]);
    // A local (invited) person: no identity provider, never signed in through one.
    expect(row).toMatchObject({
      displayName: 'Alice A.',
      groups: ['data-team'],
      disabled: false,
      idp: null,
      lastIdpLoginAt: null,
      lastLoginMethod: 'passkey',
    });
    expect(new Date(row.lastLoginAt).toISOString()).toBe(row.lastLoginAt);
    aliceId = row.id;
  });

  it('shows one user by id or username, with passkeys named after their authenticator', async () => {
    const byName = await t.http.get('/v1/admin/users/alice').set(bearer(admin.token));
    const byId = await t.http.get(`/v1/admin/users/${aliceId}`).set(bearer(admin.token));
    expect(byName.status).toBe(200);
    expect(byId.body).toEqual(byName.body);
    const [passkey] = byName.body.passkeys;
    expect(authenticatorName(YUBIKEY)).toEqual(expect.any(String));
    expect(passkey).toMatchObject({
      authenticator: authenticatorName(YUBIKEY),
      aaguid: YUBIKEY,
      revokedAt: null,
      deviceType: 'singleDevice',
      backedUp: false,
    });
    expect(JSON.stringify(byName.body)).not.toMatch(/publicKey|credentialId|webauthnUserId/);
    passkeyId = passkey.id;
    expect((await t.http.get('/v1/admin/users/nobody').set(bearer(admin.token))).status).toBe(404);
  });

  it('changes groups and display name, and refuses unknown fields or bad groups', async () => {
    const res = await t.http
      .patch('/v1/admin/users/alice')
      .set(bearer(admin.token))
      .send({ groups: ['ops', 'data-team'], displayName: 'Alice' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ groups: ['data-team', 'ops'], displayName: 'Alice' });
    await expectAudited('user.updated', aliceId);
    expect((await t.http.patch('/v1/admin/users/alice').set(bearer(admin.token)).send({ disabled: true })).status).toBe(
      400,
    );
    expect(
      (
        await t.http
          .patch('/v1/admin/users/alice')
          .set(bearer(admin.token))
          .send({ groups: ['bad group!'] })
      ).status,
    ).toBe(400);
  });

  it('disabling a user stops their sign-in and their current token at once; enabling restores sign-in, not the token', async () => {
    const token = await signIn(t, alice);
    expect((await t.http.post('/v1/admin/users/alice/disable').set(bearer(admin.token))).body).toMatchObject({
      disabled: true,
    });
    await expectAudited('user.disabled', aliceId);
    expect((await t.http.get('/v1/me').set(bearer(token))).status).toBe(401);
    await expect(signIn(t, alice)).rejects.toThrow(/40[13]/);
    expect((await t.http.post(`/v1/admin/users/${aliceId}/enable`).set(bearer(admin.token))).body).toMatchObject({
      disabled: false,
    });
    await expectAudited('user.enabled', aliceId);
    expect((await t.http.get('/v1/me').set(bearer(token))).body.code).toBe('session_ended');
    expect((await t.http.get('/v1/me').set(bearer(await signIn(t, alice)))).status).toBe(200);
  });

  it('renames and revokes a passkey; a revoked passkey no longer signs in', async () => {
    const renamed = await t.http
      .patch(`/v1/admin/passkeys/${passkeyId}`)
      .set(bearer(admin.token))
      .send({ label: 'Desk key' });
    expect(renamed.body).toMatchObject({ id: passkeyId, label: 'Desk key' });
    await expectAudited('passkey.renamed', aliceId);
    const listed = await t.http.get('/v1/admin/users/alice/passkeys').set(bearer(admin.token));
    expect(listed.body.map((p: { label: string }) => p.label)).toEqual(['Desk key']);
    const revoked = await t.http.delete(`/v1/admin/passkeys/${passkeyId}`).set(bearer(admin.token));
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).toEqual(expect.any(String));
    await expectAudited('passkey.revoked', aliceId);
    expect((await t.http.delete(`/v1/admin/passkeys/${passkeyId}`).set(bearer(admin.token))).status).toBe(409);
    await expect(signIn(t, alice)).rejects.toThrow(/answered 40\d/);
  });
});

describe('invites', () => {
  it('shows the token once, lists state without it, and revokes', async () => {
    const created = await t.http
      .post('/v1/admin/invites')
      .set(bearer(admin.token))
      .send({ username: 'Carol', groups: ['ops'], ttlSeconds: 3600 });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body).sort()).toEqual(['expiresAt', 'id', 'token', 'url', 'username']);
    expect(created.body.username).toBe('carol');
    expect(created.body.url).toBe(`http://localhost:8080/auth/enroll?invite=${created.body.token}`);
    expect(created.headers['cache-control']).toBe('no-store');
    await expectAudited('invite.created', created.body.id);

    const listed = await t.http.get('/v1/admin/invites').set(bearer(admin.token));
    // Made with a service account's token (as `airflow webauthn invite create` does): named by the account's name.
    expect(listed.body.find((i: { id: string }) => i.id === created.body.id)).toMatchObject({
      state: 'pending',
      groups: ['ops'],
      createdBy: admin.id,
      createdByName: 'e2e-admin',
    });
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);

    const revoked = await t.http.delete(`/v1/admin/invites/${created.body.id}`).set(bearer(admin.token));
    expect(revoked.body).toMatchObject({ id: created.body.id, state: 'revoked' });
    await expectAudited('invite.revoked', created.body.id);
    expect((await t.http.post('/v1/registration/options').send({ inviteToken: created.body.token })).status).toBe(400);
    expect((await t.http.delete(`/v1/admin/invites/${created.body.id}`).set(bearer(admin.token))).status).toBe(409);
  });

  it('creates invites sent at the same moment, each in its own transaction (SQLite shares one connection)', async () => {
    const names = Array.from({ length: 12 }, (_, i) => `burst${i}-${Date.now().toString(36)}`);
    const answers = await Promise.all(
      names.map((username) => t.http.post('/v1/admin/invites').set(bearer(admin.token)).send({ username })),
    );
    expect(answers.map((a) => a.status)).toEqual(names.map(() => 201));
    const listed = await t.http.get('/v1/admin/invites').set(bearer(admin.token));
    const pending = new Set(
      listed.body.filter((i: { state: string }) => i.state === 'pending').map((i: { username: string }) => i.username),
    );
    expect(names.filter((n) => !pending.has(n))).toEqual([]);
    const audited = new Set((await events({ type: 'invite.created', limit: 100 })).map((e) => e.subjectId));
    expect(answers.filter((a) => !audited.has(a.body.id))).toEqual([]);
  });

  it('refuses bad input with 400', async () => {
    for (const body of [
      {},
      { username: 'x', ttlSeconds: 5 },
      { username: 'x', ttlSeconds: '3600' },
      { username: 'has space' },
      { username: 'x', extra: 1 },
    ]) {
      const res = await t.http.post('/v1/admin/invites').set(bearer(admin.token)).send(body);
      expect(res.status).toBe(400);
      expect(res.body.statusCode).toBe(400);
    }
  });
});

describe('service accounts', () => {
  it('shows the secret once; rotation invalidates the old one', async () => {
    const created = await t.http
      .post('/v1/admin/service-accounts')
      .set(bearer(admin.token))
      .send({ name: 'airflow-sync', groups: ['ops'] });
    expect(created.status).toBe(201);
    const { id, clientId, clientSecret } = created.body;
    expect(created.body).toMatchObject({
      name: 'airflow-sync',
      groups: ['ops'],
      clientId: expect.stringMatching(/^sa_/),
      clientSecret: expect.any(String),
    });
    await expectAudited('service_account.created', id);

    const listed = await t.http.get('/v1/admin/service-accounts').set(bearer(admin.token));
    expect(listed.body.find((a: { id: string }) => a.id === id)).toMatchObject({ clientId, disabled: false });
    expect(JSON.stringify(listed.body)).not.toMatch(new RegExp(`${clientSecret}|secretHash|clientSecret`));

    const rotated = await t.http.post(`/v1/admin/service-accounts/${id}/rotate-secret`).set(bearer(admin.token));
    expect(rotated.status).toBe(200);
    expect(rotated.body).toMatchObject({ id, clientId, name: 'airflow-sync' });
    expect(rotated.body.clientSecret).not.toBe(clientSecret);
    await expectAudited('service_account.secret_rotated', id);
    const old = await requestClientToken(t, clientId, clientSecret);
    expect(old.status).toBe(401);
    expect(old.body.error).toBe('invalid_client');
    await clientToken(t, clientId, rotated.body.clientSecret);
  });

  it('a disabled account gets no token and its current token stops working, for good', async () => {
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).status).toBe(200);
    expect(
      (await t.http.post(`/v1/admin/service-accounts/${sa.clientId}/disable`).set(bearer(admin.token))).body,
    ).toMatchObject({ disabled: true });
    await expectAudited('service_account.disabled', sa.id);
    expect((await requestClientToken(t, sa.clientId, sa.clientSecret)).body.error).toBe('invalid_client');
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).status).toBe(401);
    await t.http.post(`/v1/admin/service-accounts/${sa.id}/enable`).set(bearer(admin.token)).expect(200);
    await expectAudited('service_account.enabled', sa.id);
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).body.code).toBe('session_ended');
    expect(
      (await t.http.get('/v1/admin/keys').set(bearer(await clientToken(t, sa.clientId, sa.clientSecret)))).status,
    ).toBe(200);
  });
});

describe('signing keys', () => {
  it('rotation publishes a new next key, keeps the old active key published, and old tokens still verify', async () => {
    const before = await t.http.get('/v1/admin/keys').set(bearer(admin.token));
    expect(before.body.map((k: { state: string }) => k.state).sort()).toEqual(['active', 'next']);
    expect(JSON.stringify(before.body)).not.toMatch(/encrypted|"d"|publicJwk/);
    const oldActive = before.body.find((k: { state: string }) => k.state === 'active').kid;
    const oldNext = before.body.find((k: { state: string }) => k.state === 'next').kid;

    const rotated = await t.http.post('/v1/admin/keys/rotate').set(bearer(admin.token));
    expect(rotated.status).toBe(200);
    expect(rotated.body).toEqual({ activeKid: oldNext, nextKid: expect.any(String), retiredKid: oldActive });
    await expectAudited('key.rotated', oldNext);

    const jwks = (await t.http.get('/.well-known/jwks.json')).body.keys.map((k: { kid: string }) => k.kid);
    expect(jwks).toEqual(expect.arrayContaining([oldActive, oldNext, rotated.body.nextKid]));
    expect(kidOf(admin.token)).toBe(oldActive);
    expect(
      (await t.http.get('/v1/admin/keys').set(bearer(admin.token))).body.find(
        (k: { kid: string }) => k.kid === oldActive,
      ),
    ).toMatchObject({ state: 'retired', retiredAt: expect.any(String), publishUntil: expect.any(String) });
    const fresh = await serviceAccountToken(t, [ADMIN_GROUP]);
    expect(kidOf(fresh.token)).toBe(oldNext);
  });
});

describe('audit trail', () => {
  it('filters by type, outcome, actor and subject', async () => {
    const sa = await serviceAccountToken(t, []);
    await requestClientToken(t, sa.clientId, 'wrong-secret').expect(401);
    const failures = await events({ type: 'token.issued', outcome: 'failure' });
    expect(failures.length).toBeGreaterThan(0);
    expect(failures.every((e) => e.type === 'token.issued' && e.outcome === 'failure')).toBe(true);
    const byActor = await events({ actor: admin.id });
    expect(byActor.length).toBeGreaterThan(0);
    expect(byActor.every((e) => e.actorId === admin.id)).toBe(true);
    const bySubject = await events({ subject: sa.id });
    expect(bySubject.map((e) => e.type)).toEqual(expect.arrayContaining(['service_account.created', 'token.issued']));
    expect(await events({ since: new Date(Date.now() + 60_000).toISOString() })).toEqual([]);
  });

  it('pages with a cursor without gaps or repeats', async () => {
    // Reads are audited (audit.read, written after each page); the events other than those are the same in both walks.
    const notRead = (e: { type?: unknown }) => e.type !== 'audit.read';
    const all = (await events({ limit: 500 })).filter(notRead);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { items: Array<{ id: string; type: string }>; nextCursor: string | null } = (
        await t.http
          .get('/v1/admin/audit')
          .query(cursor ? { limit: 7, cursor } : { limit: 7 })
          .set(bearer(admin.token))
      ).body;
      expect(page.items.length).toBeLessThanOrEqual(7);
      seen.push(...page.items.filter(notRead).map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    // Both walks see the same events, newest first.
    expect(seen.length).toBeGreaterThan(14);
    expect(seen).toEqual(all.map((e) => e.id));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('answers 400 JSON to bad query parameters', async () => {
    const bad = [
      { limit: 0 },
      { limit: 501 },
      { limit: 'ten' },
      { since: 'yesterday' },
      { until: '2025-13-40T00:00:00Z' },
      { outcome: 'maybe' },
      { cursor: 'not/base64' },
      { cursor: 'Zm9v' },
      { since: '2025-02-01T00:00:00Z', until: '2025-01-01T00:00:00Z' },
      { unknown: 1 },
    ];
    for (const query of bad) {
      const res = await t.http.get('/v1/admin/audit').query(query).set(bearer(admin.token));
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect(res.body).toMatchObject({ statusCode: 400, error: 'Bad Request', message: expect.any(String) });
    }
    expect((await t.http.get('/v1/admin/audit/export').query({ since: 'soon' }).set(bearer(admin.token))).status).toBe(
      400,
    );
  });

  it('exports NDJSON, oldest first, with the same filters, and records the export', async () => {
    // Reads are audited: the audit.read events written by these reads are left out of the comparison.
    const notRead = (e: { type?: unknown }) => e.type !== 'audit.read';
    const expected = (await events({ limit: 500 }))
      .filter(notRead)
      .map((e) => e.id)
      .reverse();
    const res = await exportNdjson({});
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const lines = res.lines.map((l) => JSON.parse(l)).filter(notRead);
    expect(lines.map((e) => e.id)).toEqual(expected);
    const times = lines.map((e) => Date.parse(e.occurredAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await exportNdjson({ type: 'key.rotated' })).lines.map((l) => JSON.parse(l).type)).toEqual(['key.rotated']);
    expect((await events({ type: 'audit.exported', limit: 1 }))[0]).toMatchObject({ actorId: admin.id });
  });
});

describe('self-service (/v1/me)', () => {
  const dave = new SoftAuthenticator();
  const erin = new SoftAuthenticator();
  let daveToken: string;

  beforeAll(async () => {
    await enrollUser(t, dave, { username: 'dave' });
    await enrollUser(t, erin, { username: 'erin' });
    daveToken = await signIn(t, dave, { username: 'dave' });
  });

  it('shows my profile and passkeys, and is for people only', async () => {
    const me = await t.http.get('/v1/me').set(bearer(daveToken));
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: 'dave', passkeys: [expect.objectContaining({ revokedAt: null })] });
    expect((await t.http.get('/v1/me').set(bearer(admin.token))).status).toBe(403);
    expect((await t.http.get('/v1/me')).status).toBe(401);
  });

  it("cannot rename or revoke someone else's passkey (404, as if it did not exist)", async () => {
    const erinToken = await signIn(t, erin, { username: 'erin' });
    const erinPasskey = (await t.http.get('/v1/me').set(bearer(erinToken))).body.passkeys[0].id;
    expect((await t.http.delete(`/v1/me/passkeys/${erinPasskey}`).set(bearer(daveToken))).status).toBe(404);
    expect(
      (await t.http.patch(`/v1/me/passkeys/${erinPasskey}`).set(bearer(daveToken)).send({ label: 'mine' })).status,
    ).toBe(404);
    expect((await t.http.get('/v1/me').set(bearer(erinToken))).body.passkeys[0]).toMatchObject({ revokedAt: null });
  });

  it('renames my passkey, keeps my last one, and revokes one once I have another', async () => {
    const first = (await t.http.get('/v1/me').set(bearer(daveToken))).body.passkeys[0].id;
    const renamed = await t.http.patch(`/v1/me/passkeys/${first}`).set(bearer(daveToken)).send({ label: 'Laptop' });
    expect(renamed.body.label).toBe('Laptop');
    const last = await t.http.delete(`/v1/me/passkeys/${first}`).set(bearer(daveToken));
    expect(last.status).toBe(409);
    await enrollPasskey(t, new SoftAuthenticator(), { bearer: daveToken }, { label: 'Phone' });
    expect((await t.http.delete(`/v1/me/passkeys/${first}`).set(bearer(daveToken))).body).toMatchObject({
      id: first,
      revokedAt: expect.any(String),
    });
    const [event] = await events({ type: 'passkey.revoked', limit: 1 });
    expect(event).toMatchObject({
      actorType: 'user',
      subjectId: event!.actorId,
      details: expect.objectContaining({ passkeyId: first }),
    });
  });

  it('may remove the last passkey while a re-enrollment invite is pending', async () => {
    const erinToken = await signIn(t, erin, { username: 'erin' });
    const only = (await t.http.get('/v1/me').set(bearer(erinToken))).body.passkeys[0].id;
    expect((await t.http.delete(`/v1/me/passkeys/${only}`).set(bearer(erinToken))).status).toBe(409);
    await createInvite(t, { username: 'erin' });
    expect((await t.http.delete(`/v1/me/passkeys/${only}`).set(bearer(erinToken))).status).toBe(200);
  });
});
