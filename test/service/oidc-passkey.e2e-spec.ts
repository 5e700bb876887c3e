/**
 * The passkey as the enforced second factor after a provider sign-in (FEDERATION_PASSKEY_REQUIRED_GROUPS), with the
 * real OpenID provider: first sign-in enrolls a passkey bound to the provider's account (no invite), later sign-ins
 * confirm with it; only then a token, naming both factors. Negative: someone else's passkey, a replayed or forged
 * pending sign-in, enrolling when a passkey exists, the wrong ceremony.
 */
import { decodeJwt } from 'jose';
import type {
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { UsersService } from '@app/accounts';
import { RunningProvider, providerEnv, signInAt, startProvider } from '../support/oidc-provider-control';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { TEST_ORIGIN, TestApp, signedInPerson, startTestApp } from '../support/test-app';

let op: RunningProvider;
let t: TestApp;

beforeAll(async () => {
  op = await startProvider();
  t = await startTestApp(providerEnv(op, { FEDERATION_PASSKEY_REQUIRED_GROUPS: 'idp-admins' }));
}, 60_000);
afterAll(async () => {
  await t?.close();
  await op?.stop();
});

async function pendingFor(loginHint: string): Promise<{ action: string; pending: string }> {
  const res = await signInAt(t, loginHint);
  expect(res.status).toBe(200);
  expect(res.body.status).toBe('passkey_required');
  expect(res.body.access_token).toBeUndefined();
  return res.body;
}

async function enroll(pending: string, authenticator: SoftAuthenticator) {
  const options = await t.http.post('/v1/oidc/passkey/options').send({ pending }).expect(200);
  expect(options.body.action).toBe('enroll');
  const response = authenticator.createCredential(options.body.options as PublicKeyCredentialCreationOptionsJSON, {
    origin: TEST_ORIGIN,
  });
  return t.http.post('/v1/oidc/passkey/enroll').send({ pending, response });
}

async function confirm(pending: string, authenticator: SoftAuthenticator) {
  const options = await t.http.post('/v1/oidc/passkey/options').send({ pending }).expect(200);
  expect(options.body.action).toBe('confirm');
  const response = authenticator.getAssertion(options.body.options as PublicKeyCredentialRequestOptionsJSON, {
    origin: TEST_ORIGIN,
  });
  return t.http.post('/v1/oidc/passkey/confirm').send({ pending, response });
}

describe('passkey as the second factor after the provider', () => {
  const alicesKey = new SoftAuthenticator();

  it('first sign-in: enrolls a passkey bound to the provider account, then a token with amr fed + hwk/swk and idp', async () => {
    const { action, pending } = await pendingFor('alice');
    expect(action).toBe('enroll');
    const res = await enroll(pending, alicesKey);
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.access_token);
    expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'user', 'mfa']));
    expect((claims.amr as string[]).some((m) => m === 'hwk' || m === 'swk')).toBe(true);
    expect(claims).toMatchObject({
      idp: op.issuer,
      preferred_username: 'alice',
      groups: ['idp-admins', 'idp-engineers'],
    });
    expect(typeof claims.passkey_id).toBe('string');
    // The token is a full passkey sign-in for the service: it names a live passkey of this person.
    await t.http.get('/v1/me').set('authorization', `Bearer ${res.body.access_token}`).expect(200);
    expect((await t.app.get(UsersService).findByUsername('alice'))!.lastLoginMethod).toBe('provider+passkey');
  });

  it('later sign-ins confirm with that passkey (restricted to it), and only then get a token', async () => {
    const { action, pending } = await pendingFor('alice');
    expect(action).toBe('confirm');
    const options = await t.http.post('/v1/oidc/passkey/options').send({ pending }).expect(200);
    const alice = await t.app.get(UsersService).findByUsername('alice');
    expect(options.body.options.allowCredentials.map((c: { id: string }) => c.id)).toEqual(
      alicesKey.credentials.map((c) => c.id),
    );
    const res = await confirm(pending, alicesKey);
    expect(res.status).toBe(200);
    const claims = decodeJwt(res.body.access_token);
    expect(claims.sub).toBe(alice!.id);
    expect(claims.amr).toEqual(expect.arrayContaining(['fed', 'user']));
    expect(claims.idp).toBe(op.issuer);
    // Recorded as the provider and then a passkey, not as a passkey sign-in alone.
    expect((await t.app.get(UsersService).findByUsername('alice'))!.lastLoginMethod).toBe('provider+passkey');
  });

  it('the waiting sign-in is single-use: a replayed pending value is refused', async () => {
    const { pending } = await pendingFor('alice');
    await confirm(pending, alicesKey).then((res) => expect(res.status).toBe(200));
    const again = await t.http.post('/v1/oidc/passkey/options').send({ pending }).expect(400);
    expect(again.body.message).toMatch(/unknown or was already finished/);
  });

  it('refuses a forged pending value', async () => {
    await t.http
      .post('/v1/oidc/passkey/options')
      .send({ pending: 'A'.repeat(43) })
      .expect(400);
    await t.http.post('/v1/oidc/passkey/options').send({ pending: 'short' }).expect(400);
  });

  it("refuses someone else's passkey, and that attempt is spent (no second try without the provider)", async () => {
    const other = await signedInPerson(t);
    const { pending } = await pendingFor('alice');
    const options = await t.http.post('/v1/oidc/passkey/options').send({ pending }).expect(200);
    // The other person's authenticator answers a discoverable-style challenge with its own credential.
    const forged = other.authenticator.getAssertion(
      { ...options.body.options, allowCredentials: [] },
      { origin: TEST_ORIGIN },
    );
    const res = await t.http.post('/v1/oidc/passkey/confirm').send({ pending, response: forged });
    expect(res.status).toBe(401);
    expect(res.body.access_token).toBeUndefined();
    await t.http.post('/v1/oidc/passkey/options').send({ pending }).expect(400);
  });

  it('cannot enroll another passkey through the provider once one exists (the wrong ceremony is refused too)', async () => {
    const { action, pending } = await pendingFor('alice');
    expect(action).toBe('confirm');
    const intruder = new SoftAuthenticator();
    const creation = await t.http.post('/v1/registration/options').send({});
    expect(creation.status).toBe(401);
    const fakeOptions = {
      challenge: 'AAAA',
      rp: { id: 'localhost', name: 'x' },
      user: { id: 'AAAA', name: 'alice', displayName: 'a' },
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    };
    const response = intruder.createCredential(fakeOptions as PublicKeyCredentialCreationOptionsJSON, {
      origin: TEST_ORIGIN,
    });
    const res = await t.http.post('/v1/oidc/passkey/enroll').send({ pending, response });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(/waits for the passkey step "confirm"/);
    expect(await t.app.get(UsersService).findByUsername('alice')).toBeTruthy();
  });

  it('people outside FEDERATION_PASSKEY_REQUIRED_GROUPS sign in with the provider alone: amr ["fed"]', async () => {
    const res = await signInAt(t, 'bob');
    expect(res.body.status).toBe('signed_in');
    expect(decodeJwt(res.body.access_token).amr).toEqual(['fed']);
  });
});
