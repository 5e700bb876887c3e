/**
 * The last administrator stays: no admin-API call may leave the deployment without an enabled person in an
 * ADMIN_GROUPS group who holds an active (not revoked, not flagged) passkey. The service CLI's --force is the only
 * way past it (cli.e2e-spec.ts).
 */
import { DataSource } from 'typeorm';
import { Passkey } from '@app/webauthn';
import { ADMIN_GROUP, serviceAccountToken, signedInPerson, startTestApp, TestApp } from '../support/test-app';

let t: TestApp;
let admin: string;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

beforeAll(async () => {
  t = await startTestApp();
  // A service account with the admin scope is no administrator PERSON: it never counts for the rule.
  admin = (await serviceAccountToken(t, [ADMIN_GROUP], 'la-admin', ['admin'])).token;
});
afterAll(async () => {
  await t?.close();
});

async function userOf(id: string) {
  return (await t.http.get(`/v1/admin/users/${id}`).set(bearer(admin))).body as {
    groups: string[];
    disabled: boolean;
    passkeys: Array<{ revokedAt: string | null }>;
  };
}

it('before any administrator person exists (bootstrap), nothing is blocked', async () => {
  const p = await signedInPerson(t, { groups: ['ops'] });
  await t.http.post(`/v1/admin/users/${p.id}/disable`).set(bearer(admin)).expect(200);
  await t.http.patch(`/v1/admin/users/${p.id}`).set(bearer(admin)).send({ groups: [] }).expect(200);
});

describe('with one administrator person', () => {
  let first: Awaited<ReturnType<typeof signedInPerson>>;
  beforeAll(async () => {
    first = await signedInPerson(t, { groups: [ADMIN_GROUP, 'ops'] });
  });

  it.each([
    [
      'demoting them',
      () =>
        t.http
          .patch(`/v1/admin/users/${first.id}`)
          .set(bearer(admin))
          .send({ groups: ['ops'] }),
    ],
    ['disabling them', () => t.http.post(`/v1/admin/users/${first.id}/disable`).set(bearer(admin))],
    ['revoking their only passkey', () => t.http.delete(`/v1/admin/passkeys/${first.passkeyId}`).set(bearer(admin))],
    [
      'demoting themself with a fresh, verified sign-in',
      () => t.http.patch(`/v1/admin/users/${first.id}`).set(bearer(first.token)).send({ groups: [] }),
    ],
    ['disabling themself', () => t.http.post(`/v1/admin/users/${first.id}/disable`).set(bearer(first.token))],
  ])('%s is refused with last_admin, and nothing changes', async (_name, call) => {
    const res = await call();
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      code: 'last_admin',
      message: expect.stringMatching(/leave no enabled person in airflow-admins with an active passkey/),
    });
    expect(await userOf(first.id)).toMatchObject({
      groups: [ADMIN_GROUP, 'ops'],
      disabled: false,
      passkeys: [{ revokedAt: null }],
    });
  });

  it('changing what does not touch admin rights still works (display name, other groups)', async () => {
    await t.http
      .patch(`/v1/admin/users/${first.id}`)
      .set(bearer(admin))
      .send({ displayName: 'First', groups: [ADMIN_GROUP] })
      .expect(200);
  });

  it('another admin who is disabled, or whose only passkey is flagged, does not count', async () => {
    const flagged = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    await t.app
      .get(DataSource)
      .getRepository(Passkey)
      .update({ id: flagged.passkeyId }, { flaggedAt: new Date(), flagReason: 'counter_regression' });
    const disabled = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    await t.http.post(`/v1/admin/users/${disabled.id}/disable`).set(bearer(admin)).expect(200);
    expect((await t.http.patch(`/v1/admin/users/${first.id}`).set(bearer(admin)).send({ groups: [] })).body.code).toBe(
      'last_admin',
    );
  });

  it('with a second active administrator, one of them can go; two demoting each other at once leave exactly one', async () => {
    const second = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    const third = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    await t.http
      .patch(`/v1/admin/users/${third.id}`)
      .set(bearer(admin))
      .send({ groups: ['ops'] })
      .expect(200);

    const answers = await Promise.all([
      t.http
        .patch(`/v1/admin/users/${first.id}`)
        .set(bearer(second.token))
        .send({ groups: ['ops'] }),
      t.http
        .patch(`/v1/admin/users/${second.id}`)
        .set(bearer(first.token))
        .send({ groups: ['ops'] }),
    ]);
    // The loser is refused as the last admin, or (when the winner demoted it first) as no admin at all.
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    expect(answers.find((a) => a.status !== 200)!.body.code).toMatch(/^(last_admin|forbidden)$/);
    const groups = [(await userOf(first.id)).groups, (await userOf(second.id)).groups];
    expect(groups.filter((g) => g.includes(ADMIN_GROUP))).toHaveLength(1);
  });
});
