/**
 * A flagged passkey (a security check blocked it) can be reviewed and unblocked by an admin: the flag's reason is
 * shown, unflagging needs admin rights (and a step-up for a person), and it is audited with the actor.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { DataSource } from 'typeorm';
import { TokenIssuerService } from '@app/tokens';
import { Passkey } from '@app/webauthn';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  ADMIN_GROUP,
  enrollUser,
  serviceAccountToken,
  signedInPerson,
  signIn,
  startTestApp,
  TestApp,
} from '../support/test-app';

let t: TestApp;
let admin: { id: string; token: string };
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function flaggedPerson() {
  const person = await signedInPerson(t);
  await t.app
    .get(DataSource)
    .getRepository(Passkey)
    .update({ id: person.passkeyId }, { flaggedAt: new Date(), flagReason: 'counter_regression' });
  return person;
}

beforeAll(async () => {
  t = await startTestApp();
  admin = await serviceAccountToken(t, [ADMIN_GROUP], 'unflag-admin', ['admin']);
});
afterAll(async () => {
  await t?.close();
});

it('shows the flag and its reason to admins, and the flagged passkey neither signs in nor keeps its token', async () => {
  const p = await flaggedPerson();
  const detail = (await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(admin.token))).body;
  expect(detail.passkeys[0]).toMatchObject({
    id: p.passkeyId,
    flaggedAt: expect.any(String),
    flagReason: 'counter_regression',
    revokedAt: null,
  });
  await expect(signIn(t, p.authenticator, { username: p.username })).rejects.toThrow(/answered 401/);
  expect((await t.http.get('/v1/me').set(bearer(p.token))).body.code).toBe('passkey_flagged');
});

it('an admin unflags it: audited with the actor and the old reason, and it signs in again', async () => {
  const p = await flaggedPerson();
  const res = await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(admin.token));
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({ id: p.passkeyId, flaggedAt: null, flagReason: null });
  const [event] = (
    await t.http.get('/v1/admin/audit').query({ type: 'passkey.unflagged', limit: 1 }).set(bearer(admin.token))
  ).body.items;
  expect(event).toMatchObject({
    outcome: 'success',
    actorType: 'service_account',
    actorId: admin.id,
    subjectType: 'user',
    subjectId: p.id,
    details: expect.objectContaining({
      passkeyId: p.passkeyId,
      flagReason: 'counter_regression',
      flaggedAt: expect.any(String),
    }),
  });
  const fresh = await signIn(t, p.authenticator, { username: p.username });
  expect((await t.http.get('/v1/me').set(bearer(fresh))).status).toBe(200);
});

it('unflagging does not revive the sessions from before: the old token stays refused, saying why', async () => {
  const p = await flaggedPerson();
  await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(admin.token)).expect(200);
  const stale = await t.http.get('/v1/me').set(bearer(p.token));
  expect(stale.status).toBe(401);
  expect(stale.body).toMatchObject({
    code: 'session_ended',
    message: expect.stringMatching(/blocked after a security check: sign in again/),
  });
  expect((await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(admin.token))).body).toMatchObject({
    sessionGeneration: 1,
    sessionsEndedReason: 'passkey_flagged',
  });
});

it('refuses to unflag what is not flagged, is revoked, or does not exist', async () => {
  const p = await flaggedPerson();
  await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(admin.token)).expect(200);
  expect((await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(admin.token))).status).toBe(409);
  const q = await flaggedPerson();
  await t.http.delete(`/v1/admin/passkeys/${q.passkeyId}`).set(bearer(admin.token)).expect(200);
  expect((await t.http.post(`/v1/admin/passkeys/${q.passkeyId}/unflag`).set(bearer(admin.token))).status).toBe(409);
  expect((await t.http.post(`/v1/admin/passkeys/${randomUUID()}/unflag`).set(bearer(admin.token))).status).toBe(404);
});

it('a person admin needs a fresh step-up; a non-admin, a sessions:read account and the flagged person themself cannot', async () => {
  const p = await flaggedPerson();
  const reader = (await serviceAccountToken(t, [], undefined, ['sessions:read'])).token;
  expect((await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(reader))).body.code).toBe(
    'insufficient_scope',
  );
  expect((await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(p.token))).body.code).toBe(
    'passkey_flagged',
  );
  const outsider = new SoftAuthenticator();
  await enrollUser(t, outsider, { username: `out${randomUUID().slice(0, 6)}` });
  expect(
    (await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(await signIn(t, outsider)))).status,
  ).toBe(403);

  const boss = new SoftAuthenticator();
  const bossName = `boss${randomUUID().slice(0, 6)}`;
  await enrollUser(t, boss, { username: bossName, groups: [ADMIN_GROUP] });
  const fresh = await signIn(t, boss, { username: bossName });
  const claims = decodeJwt(fresh);
  const stale = await t.app.get(TokenIssuerService).issueUserToken({
    userId: claims.sub!,
    username: bossName,
    displayName: bossName,
    groups: [ADMIN_GROUP],
    passkeyId: claims.passkey_id as string,
    sessionGeneration: 0,
    authTime: new Date(Date.now() - (t.config.webauthn.stepUpMaxAgeSeconds + 5) * 1000),
    amr: claims.amr as string[],
  });
  expect(
    (await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(stale.access_token))).body.code,
  ).toBe('step_up_required');
  expect((await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(admin.token))).body.passkeys[0].flaggedAt).toEqual(
    expect.any(String),
  );
  expect((await t.http.post(`/v1/admin/passkeys/${p.passkeyId}/unflag`).set(bearer(fresh))).status).toBe(200);
  const [event] = (
    await t.http.get('/v1/admin/audit').query({ type: 'passkey.unflagged', limit: 1 }).set(bearer(admin.token))
  ).body.items;
  expect(event).toMatchObject({ actorType: 'user', actorId: claims.sub, subjectId: p.id });
});
