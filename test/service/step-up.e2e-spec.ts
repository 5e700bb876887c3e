/**
 * Step-up as policy: a person's admin mutations and adding a passkey need a user-verified sign-in younger than
 * WEBAUTHN_STEP_UP_MAX_AGE_SECONDS, even where everyday sign-in only prefers user verification.
 */
import { randomUUID } from 'node:crypto';
import type { PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import { UsersService } from '@app/accounts';
import { TokenIssuerService } from '@app/tokens';
import { PasskeysService } from '@app/webauthn';
import { ADMIN_ROUTES, routePath, routesOfApp } from '../support/admin-routes';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { ADMIN_GROUP, enrollPasskey, signedInPerson, startTestApp, TEST_ORIGIN, TestApp } from '../support/test-app';

let t: TestApp;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

/** An admin person; `userVerification: false` makes an authenticator that never verifies the person. */
const adminPerson = (userVerification = true) => signedInPerson(t, { groups: [ADMIN_GROUP], userVerification });

/** A login token for a real passkey of the user, from a sign-in `ageSeconds` ago with the given amr. */
async function tokenFrom(username: string, ageSeconds: number, amr: string[]): Promise<string> {
  const user = await t.app.get(UsersService).resolve(username);
  const [passkey] = await t.app.get(PasskeysService).listForUser(user.id);
  const issued = await t.app.get(TokenIssuerService).issueUserToken({
    userId: user.id,
    username,
    displayName: username,
    groups: user.groups,
    passkeyId: passkey!.id,
    sessionGeneration: user.sessionGeneration,
    authTime: new Date(Date.now() - ageSeconds * 1000),
    amr,
  });
  return issued.access_token;
}

beforeAll(async () => {
  t = await startTestApp({ WEBAUTHN_USER_VERIFICATION: 'preferred', WEBAUTHN_STEP_UP_MAX_AGE_SECONDS: '120' });
});
afterAll(async () => {
  await t?.close();
});

describe('with WEBAUTHN_USER_VERIFICATION=preferred', () => {
  it('a sign-in without user verification may read the admin API but not change anything or add a passkey', async () => {
    const admin = await adminPerson(false);
    expect((await t.http.get('/v1/admin/users').set(bearer(admin.token))).status).toBe(200);
    const invite = await t.http
      .post('/v1/admin/invites')
      .set(bearer(admin.token))
      .send({ username: `x${randomUUID().slice(0, 8)}` });
    expect(invite.status).toBe(401);
    expect(invite.body).toMatchObject({
      code: 'step_up_required',
      message: expect.stringMatching(/PIN or biometrics/),
    });
    const add = await t.http.post('/v1/registration/options').set(bearer(admin.token)).send({});
    expect(add.status).toBe(401);
    expect(add.body.code).toBe('step_up_required');
  });

  it('a stale step-up answers step_up_required on EVERY admin mutation, and on adding a passkey', async () => {
    const admin = await adminPerson();
    const stale = await tokenFrom(admin.username, 121, ['hwk', 'user', 'mfa']);
    expect((await t.http.get('/v1/admin/users').set(bearer(stale))).status).toBe(200);
    for (const route of ADMIN_ROUTES.filter((r) => r.kind === 'mutation')) {
      const res = await t.http[route.method](routePath(route, randomUUID())).set(bearer(stale)).send({});
      expect({ route: route.pattern, method: route.method, status: res.status, code: res.body.code }).toEqual({
        route: route.pattern,
        method: route.method,
        status: 401,
        code: 'step_up_required',
      });
    }
    await expect(enrollPasskey(t, new SoftAuthenticator(), { bearer: stale })).rejects.toThrow(
      /answered 401.*step_up_required/,
    );
  });

  it('a fresh user-verified sign-in may make admin changes and add a passkey', async () => {
    const admin = await adminPerson();
    const fresh = await tokenFrom(admin.username, 110, ['hwk', 'user', 'mfa']);
    expect(
      (
        await t.http
          .post('/v1/admin/invites')
          .set(bearer(fresh))
          .send({ username: `y${randomUUID().slice(0, 8)}` })
      ).status,
    ).toBe(201);
    expect(await enrollPasskey(t, new SoftAuthenticator(), { bearer: admin.token }, { label: 'second' })).toMatchObject(
      { label: 'second' },
    );
  });
});

describe('a step-up ceremony (options asked with userVerification: "required")', () => {
  /** Assertion options for the person; `stepUp` asks for them as the plugin's step-up does. */
  async function options(username: string, stepUp: boolean) {
    const res = await t.http
      .post('/v1/authentication/options')
      .send(stepUp ? { username, userVerification: 'required' } : { username });
    expect(res.status).toBe(200);
    return res.body as PublicKeyCredentialRequestOptionsJSON;
  }
  const verify = (response: unknown) => t.http.post('/v1/authentication/verify').send({ response });

  it('asks for user verification even though everyday sign-in only prefers it', async () => {
    const person = await adminPerson();
    expect((await options(person.username, false)).userVerification).toBe('preferred');
    expect((await options(person.username, true)).userVerification).toBe('required');
  });

  it('refuses an assertion without user verification on a step-up challenge (the demand is stored with the challenge)', async () => {
    const person = await adminPerson(false);
    const refused = await verify(
      person.authenticator.getAssertion(await options(person.username, true), { origin: TEST_ORIGIN }),
    );
    expect(refused.status).toBe(401);
    expect(refused.body.access_token).toBeUndefined();
    expect(refused.body.message).toMatch(/user verification|could not be verified/i);
    // The same authenticator still signs in on an everyday challenge: only the step-up demanded UV.
    expect(
      (await verify(person.authenticator.getAssertion(await options(person.username, false), { origin: TEST_ORIGIN })))
        .status,
    ).toBe(200);
  });

  it('accepts a user-verified assertion on a step-up challenge, and its token carries mfa', async () => {
    const person = await adminPerson();
    const res = await verify(
      person.authenticator.getAssertion(await options(person.username, true), { origin: TEST_ORIGIN }),
    );
    expect(res.status).toBe(200);
    const claims = JSON.parse(Buffer.from((res.body.access_token as string).split('.')[1]!, 'base64url').toString());
    expect(claims.amr).toContain('mfa');
  });

  it('accepts no other value: the request can make a ceremony stricter, never looser', async () => {
    for (const userVerification of ['preferred', 'discouraged', true, null]) {
      const res = await t.http.post('/v1/authentication/options').send({ username: 'someone', userVerification });
      expect({ userVerification, status: res.status }).toEqual({ userVerification, status: 400 });
    }
  });
});

it('the route table covers every admin route the application serves, and each answers 401 without a token', async () => {
  expect(routesOfApp(t.app)).toEqual(ADMIN_ROUTES.map((r) => `${r.method} ${r.pattern}`).sort());
  for (const route of ADMIN_ROUTES) {
    const res = await t.http[route.method](routePath(route, randomUUID())).send({});
    expect({ route: route.pattern, status: res.status }).toEqual({ route: route.pattern, status: 401 });
  }
});
