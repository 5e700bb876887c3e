/**
 * The service decides from current state, not from token claims: every Bearer request re-reads the principal, so a
 * demotion, a disabled account, a revoked or flagged passkey takes effect before the token expires.
 */
import { randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { DataSource } from 'typeorm';
import { User } from '@app/accounts';
import { KeyStoreService, TokenIssuerService } from '@app/tokens';
import { Passkey } from '@app/webauthn';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  ADMIN_GROUP,
  clientToken,
  enrollPasskey,
  serviceAccountToken,
  signedInPerson,
  signIn,
  startTestApp,
  TestApp,
} from '../support/test-app';

let t: TestApp;
let admin: string;

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

async function flag(passkeyId: string): Promise<void> {
  await t.app
    .get(DataSource)
    .getRepository(Passkey)
    .update({ id: passkeyId }, { flaggedAt: new Date(), flagReason: 'counter_regression' });
}

beforeAll(async () => {
  t = await startTestApp();
  admin = (await serviceAccountToken(t, [ADMIN_GROUP], 'cs-admin', ['admin'])).token;
  // A standing administrator, so the last-admin rule lets these tests demote and disable the others.
  await signedInPerson(t, { groups: [ADMIN_GROUP] });
});
afterAll(async () => {
  await t?.close();
});

describe('admin rights follow the current groups, not the token', () => {
  it("a demoted admin's unexpired token is refused by the admin API and cannot restore its own admin group", async () => {
    const boss = await signedInPerson(t, { groups: [ADMIN_GROUP, 'ops'] });
    expect((await t.http.get('/v1/admin/users').set(bearer(boss.token))).status).toBe(200);
    await t.http
      .patch(`/v1/admin/users/${boss.id}`)
      .set(bearer(admin))
      .send({ groups: ['ops'] })
      .expect(200);

    const read = await t.http.get('/v1/admin/users').set(bearer(boss.token));
    expect(read.status).toBe(403);
    expect(read.body.code).toBe('forbidden');
    const restore = await t.http
      .patch(`/v1/admin/users/${boss.id}`)
      .set(bearer(boss.token))
      .send({ groups: ['ops', ADMIN_GROUP] });
    expect(restore.status).toBe(403);
    expect((await t.http.post('/v1/admin/invites').set(bearer(boss.token)).send({ username: 'sneaky' })).status).toBe(
      403,
    );
    expect((await t.http.get(`/v1/admin/users/${boss.id}`).set(bearer(admin))).body.groups).toEqual(['ops']);
  });

  it("a promoted person's token gains admin reads at once (groups are read now, in both directions)", async () => {
    const newcomer = await signedInPerson(t, { groups: ['ops'] });
    expect((await t.http.get('/v1/admin/users').set(bearer(newcomer.token))).status).toBe(403);
    await t.http
      .patch(`/v1/admin/users/${newcomer.id}`)
      .set(bearer(admin))
      .send({ groups: ['ops', ADMIN_GROUP] })
      .expect(200);
    expect((await t.http.get('/v1/admin/users').set(bearer(newcomer.token))).status).toBe(200);
  });

  it('a service account removed from the admin group loses the admin API with its current token', async () => {
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).status).toBe(200);
    await t.app.get(DataSource).query(`UPDATE service_accounts SET groups = '["ops"]' WHERE id = '${sa.id}'`);
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).status).toBe(403);
  });
});

describe("a person's token is refused once its passkey or account is", () => {
  it("a revoked passkey's token cannot add a passkey (nor do anything else)", async () => {
    const p = await signedInPerson(t);
    await enrollPasskey(t, new SoftAuthenticator(), { bearer: p.token }, { label: 'second' });
    await t.http.delete(`/v1/admin/passkeys/${p.passkeyId}`).set(bearer(admin)).expect(200);

    const options = await t.http.post('/v1/registration/options').set(bearer(p.token)).send({});
    expect(options.status).toBe(401);
    expect(options.body.code).toBe('passkey_revoked');
    await expect(enrollPasskey(t, new SoftAuthenticator(), { bearer: p.token })).rejects.toThrow(/answered 401/);
    const me = await t.http.get('/v1/me').set(bearer(p.token));
    expect(me.status).toBe(401);
    expect(me.body.code).toBe('passkey_revoked');
    const passkeys = (await t.http.get(`/v1/admin/users/${p.id}/passkeys`).set(bearer(admin))).body as Array<{
      revokedAt: string | null;
    }>;
    expect(passkeys.filter((k) => !k.revokedAt)).toHaveLength(1);
  });

  it("a flagged passkey's token is refused, an admin's included", async () => {
    const p = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    expect((await t.http.get('/v1/admin/users').set(bearer(p.token))).status).toBe(200);
    await flag(p.passkeyId);
    for (const res of [
      await t.http.get('/v1/me').set(bearer(p.token)),
      await t.http.get('/v1/admin/users').set(bearer(p.token)),
      await t.http.post('/v1/registration/options').set(bearer(p.token)).send({}),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('passkey_flagged');
    }
  });

  it("a disabled user's token is refused everywhere; a deleted user's too", async () => {
    const p = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    await t.http.post(`/v1/admin/users/${p.id}/disable`).set(bearer(admin)).expect(200);
    for (const res of [
      await t.http.get('/v1/me').set(bearer(p.token)),
      await t.http.get('/v1/admin/users').set(bearer(p.token)),
      await t.http.post('/v1/registration/options').set(bearer(p.token)).send({}),
    ]) {
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('account_disabled');
    }
    const gone = await signedInPerson(t);
    await t.app.get(DataSource).getRepository(User).delete({ id: gone.id });
    const res = await t.http.get('/v1/me').set(bearer(gone.token));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('account_unknown');
  });

  it("a token naming another person's passkey is refused", async () => {
    const mallory = await signedInPerson(t);
    const victim = await signedInPerson(t);
    const forged = await t.app.get(TokenIssuerService).issueUserToken({
      userId: mallory.id,
      username: mallory.username,
      displayName: mallory.username,
      groups: [],
      passkeyId: victim.passkeyId,
      sessionGeneration: 0,
      authTime: new Date(),
      amr: ['hwk', 'user', 'mfa'],
    });
    const res = await t.http.get('/v1/me').set(bearer(forged.access_token));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('passkey_revoked');
  });
});

describe('service accounts', () => {
  it("a disabled service account's token is refused with account_disabled", async () => {
    const sa = await serviceAccountToken(t, ['ops']);
    await t.http.post(`/v1/admin/service-accounts/${sa.id}/disable`).set(bearer(admin)).expect(200);
    const res = await t.http.get('/v1/me').set(bearer(sa.token));
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('account_disabled');
  });
});

describe('key rotation', () => {
  it('tokens signed before and after a rotation both verify (the verifier follows the published keys)', async () => {
    const before = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    expect((await t.http.get('/v1/admin/keys').set(bearer(before.token))).status).toBe(200);
    for (let i = 0; i < 2; i += 1) await t.http.post('/v1/admin/keys/rotate').set(bearer(admin)).expect(200);
    const after = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    expect(after.token.split('.')[0]).not.toBe(before.token.split('.')[0]);
    expect((await t.http.get('/v1/admin/keys').set(bearer(after.token))).status).toBe(200);
    expect((await t.http.get('/v1/admin/keys').set(bearer(before.token))).status).toBe(200);
  });
});

describe('ended sessions stay ended (enable, unflag, re-adding groups revive nothing)', () => {
  it("a disabled person's token is still refused after enable, saying why; a new sign-in works", async () => {
    const p = await signedInPerson(t, { groups: ['ops'] });
    await t.http.post(`/v1/admin/users/${p.id}/disable`).set(bearer(admin)).expect(200);
    expect((await t.http.get('/v1/me').set(bearer(p.token))).body.code).toBe('account_disabled');
    await t.http.post(`/v1/admin/users/${p.id}/enable`).set(bearer(admin)).expect(200);

    const stale = await t.http.get('/v1/me').set(bearer(p.token));
    expect(stale.status).toBe(401);
    expect(stale.body.code).toBe('session_ended');
    expect(stale.body.message).toMatch(/the account was disabled: sign in again/);
    const fresh = await signIn(t, p.authenticator, { username: p.username });
    expect((await t.http.get('/v1/me').set(bearer(fresh))).status).toBe(200);
  });

  it('the status read tells Airflow the generation a session must carry and why it changed', async () => {
    const p = await signedInPerson(t, { groups: ['ops'] });
    const before = (await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(admin))).body;
    expect(before).toMatchObject({ sessionGeneration: 0, sessionsEndedReason: null, sessionsEndedAt: null });
    await t.http.post(`/v1/admin/users/${p.id}/disable`).set(bearer(admin)).expect(200);
    await t.http.post(`/v1/admin/users/${p.id}/enable`).set(bearer(admin)).expect(200);
    const after = (await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(admin))).body;
    expect(after).toMatchObject({
      disabled: false,
      sessionGeneration: 1,
      sessionsEndedReason: 'account_disabled',
      sessionsEndedAt: expect.any(String),
    });
    expect(decodeJwt(await signIn(t, p.authenticator, { username: p.username })).session_gen).toBe(1);
  });

  it('enabling again does not raise the generation: a session started after the enable keeps working', async () => {
    const p = await signedInPerson(t, { groups: ['ops'] });
    await t.http.post(`/v1/admin/users/${p.id}/disable`).set(bearer(admin)).expect(200);
    await t.http.post(`/v1/admin/users/${p.id}/enable`).set(bearer(admin)).expect(200);
    const fresh = await signIn(t, p.authenticator, { username: p.username });
    await t.http.post(`/v1/admin/users/${p.id}/enable`).set(bearer(admin)).expect(200);
    expect((await t.http.get('/v1/me').set(bearer(fresh))).status).toBe(200);
  });

  it("a service account's token from before a disable is refused after enable; a new token works", async () => {
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    await t.http.post(`/v1/admin/service-accounts/${sa.id}/disable`).set(bearer(admin)).expect(200);
    await t.http.post(`/v1/admin/service-accounts/${sa.id}/enable`).set(bearer(admin)).expect(200);
    const stale = await t.http.get('/v1/admin/keys').set(bearer(sa.token));
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({
      code: 'session_ended',
      message: expect.stringMatching(/disabled: get a new token/),
    });
    expect(
      (await t.http.get('/v1/admin/keys').set(bearer(await clientToken(t, sa.clientId, sa.clientSecret)))).status,
    ).toBe(200);
  });

  it('rotate-secret refuses the tokens issued with the old secret at once; the new secret gets working ones', async () => {
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    expect((await t.http.get('/v1/admin/keys').set(bearer(sa.token))).status).toBe(200);
    const rotated = await t.http
      .post(`/v1/admin/service-accounts/${sa.id}/rotate-secret`)
      .set(bearer(admin))
      .expect(200);
    const stale = await t.http.get('/v1/admin/keys').set(bearer(sa.token));
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({ code: 'session_ended', message: expect.stringMatching(/secret was rotated/) });
    expect(
      (await t.http.get('/v1/admin/keys').set(bearer(await clientToken(t, sa.clientId, rotated.body.clientSecret))))
        .status,
    ).toBe(200);
    const view = (await t.http.get('/v1/admin/service-accounts').set(bearer(admin))).body.find(
      (a: { id: string }) => a.id === sa.id,
    );
    expect(view).toMatchObject({ sessionGeneration: 1, sessionsEndedReason: 'secret_rotated' });
  });

  it('a token from before the claim existed (no session_gen) counts as generation 0: accepted until a disable', async () => {
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    const key = await t.app.get(KeyStoreService).signingKey();
    const now = Math.floor(Date.now() / 1000);
    const legacy = await new SignJWT({
      client_id: sa.clientId,
      groups: [ADMIN_GROUP],
      scope: 'admin',
      preferred_username: sa.name,
    })
      .setProtectedHeader({ alg: key.alg, typ: 'at+jwt', kid: key.kid })
      .setIssuer(t.config.jwt.issuer)
      .setAudience(t.config.jwt.audience)
      .setSubject(sa.id)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + 300)
      .setJti(randomUUID())
      .sign(key.privateKey);
    expect((await t.http.get('/v1/admin/keys').set(bearer(legacy))).status).toBe(200);
    await t.http.post(`/v1/admin/service-accounts/${sa.id}/disable`).set(bearer(admin)).expect(200);
    await t.http.post(`/v1/admin/service-accounts/${sa.id}/enable`).set(bearer(admin)).expect(200);
    expect((await t.http.get('/v1/admin/keys').set(bearer(legacy))).body.code).toBe('session_ended');
  });

  it('a token claiming a newer generation than the account has is refused too (only the current one passes)', async () => {
    const p = await signedInPerson(t, { groups: ['ops'] });
    const forged = await t.app.get(TokenIssuerService).issueUserToken({
      userId: p.id,
      username: p.username,
      displayName: p.username,
      groups: [],
      passkeyId: p.passkeyId,
      sessionGeneration: 5,
      authTime: new Date(),
      amr: ['hwk', 'user'],
    });
    expect((await t.http.get('/v1/me').set(bearer(forged.access_token))).body.code).toBe('session_ended');
  });
});
