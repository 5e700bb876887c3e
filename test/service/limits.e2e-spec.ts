/**
 * Limits that stop guessing, not people: counters keyed by what is attacked (client id, passkey, address), kept in
 * the database so every instance shares them. The addresses come from X-Forwarded-For, as Airflow's public relays
 * send them (the test client is on loopback, which TRUST_PROXY trusts by default).
 */
import { DataSource } from 'typeorm';
import { ServiceAccountsService } from '@app/accounts';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  assertion,
  createServiceAccount,
  enrollUser,
  requestClientToken,
  serviceAccountToken,
  signIn,
  startTestApp,
  TEST_CONTEXT,
  TestApp,
} from '../support/test-app';

jest.setTimeout(120_000);

const ATTACKER = '203.0.113.66';
const PERSON = '198.51.100.7';

/** Limits small enough to reach in a test; the address and client ceilings stay out of the way unless a test lowers them. */
const LIMITS = {
  RATE_LIMIT_PER_MINUTE: '1000',
  RATE_LIMIT_CLIENT_PER_MINUTE: '1000',
  RATE_LIMIT_CEREMONY_STARTS_PER_MINUTE: '20',
  RATE_LIMIT_FAILED_SECRETS: '3',
  RATE_LIMIT_FAILED_SIGN_INS: '3',
};

function tokenFrom(t: TestApp, address: string, clientId: string, clientSecret: string) {
  return requestClientToken(t, clientId, clientSecret).set('X-Forwarded-For', address);
}

function expectRetryAfter(res: { headers: Record<string, string> }, maxSeconds: number): void {
  const seconds = Number(res.headers['retry-after']);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(maxSeconds);
}

describe('limits keyed by what is attacked', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(LIMITS);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('wrong secrets for client A from one address end in 429 there; A from another address and B from the same address still get tokens', async () => {
    const a = await createServiceAccount(t, { name: 'client-a' });
    const b = await createServiceAccount(t, { name: 'client-b' });
    for (let i = 0; i < 3; i++) expect((await tokenFrom(t, ATTACKER, a.clientId, `wrong-${i}`)).status).toBe(401);
    const limited = await tokenFrom(t, ATTACKER, a.clientId, 'wrong-again');
    expect(limited.status).toBe(429);
    expect(limited.body).toEqual({
      error: 'slow_down',
      error_description: expect.stringMatching(/too many failed authentications for this client.*try again in \d+ s/),
      code: 'rate_limited',
    });
    expectRetryAfter(limited, 900);
    // From the guessing address even the right secret waits: that is what stops the guess.
    expect((await tokenFrom(t, ATTACKER, a.clientId, a.clientSecret)).status).toBe(429);

    expect((await tokenFrom(t, PERSON, a.clientId, a.clientSecret)).status).toBe(200);
    expect((await tokenFrom(t, ATTACKER, b.clientId, b.clientSecret)).status).toBe(200);
    // HTTP Basic names the same client: the same bucket, whichever way the id is sent.
    const basic = await t.http
      .post('/v1/oauth/token')
      .set('X-Forwarded-For', ATTACKER)
      .auth(encodeURIComponent(a.clientId), 'wrong', { type: 'basic' })
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(basic.status).toBe(429);
  });

  it('successful grants are not counted as failures', async () => {
    const c = await createServiceAccount(t, { name: 'client-c' });
    const address = '192.0.2.10';
    expect((await tokenFrom(t, address, c.clientId, 'wrong-1')).status).toBe(401);
    expect((await tokenFrom(t, address, c.clientId, 'wrong-2')).status).toBe(401);
    for (let i = 0; i < 8; i++) expect((await tokenFrom(t, address, c.clientId, c.clientSecret)).status).toBe(200);
    expect((await tokenFrom(t, address, c.clientId, 'wrong-3')).status).toBe(401);
    expect((await tokenFrom(t, address, c.clientId, 'wrong-4')).status).toBe(429);
  });

  it('unauthenticated ceremony starts are limited per address, whatever the spelling of the path', async () => {
    const address = '192.0.2.20';
    for (let i = 0; i < 20; i++) {
      const path = i % 2 ? '/v1/authentication/options' : '/V1/Authentication/Options/';
      expect((await t.http.post(path).set('X-Forwarded-For', address).send({})).status).toBe(200);
    }
    const limited = await t.http
      .post('/v1/registration/options')
      .set('X-Forwarded-For', address)
      .send({ inviteToken: 'guess' });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      statusCode: 429,
      code: 'rate_limited',
      message: expect.stringContaining('too many sign-in attempts from your address'),
    });
    expectRetryAfter(limited, 60);
    // Starting a flow at the identity provider creates server-side state too: it shares the bucket.
    expect((await t.http.post('/v1/oidc/start').set('X-Forwarded-For', address).send({})).status).toBe(429);
    expect((await t.http.post('/v1/oidc/passkey/options').set('X-Forwarded-For', address).send({})).status).toBe(429);
    expect((await t.http.post('/v1/authentication/options').set('X-Forwarded-For', '192.0.2.21').send({})).status).toBe(
      200,
    );
  });

  it('failed sign-ins with one passkey are limited per address; the person still signs in from their own address', async () => {
    const authenticator = new SoftAuthenticator();
    await enrollUser(t, authenticator, { username: 'target' });
    for (let i = 0; i < 3; i++) {
      const forged = await assertion(t, authenticator, { overrides: { tamperSignature: true } });
      expect(
        (await t.http.post('/v1/authentication/verify').set('X-Forwarded-For', ATTACKER).send({ response: forged }))
          .status,
      ).toBe(401);
    }
    const forged = await assertion(t, authenticator, { overrides: { tamperSignature: true } });
    const limited = await t.http
      .post('/v1/authentication/verify')
      .set('X-Forwarded-For', ATTACKER)
      .send({ response: forged });
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      code: 'rate_limited',
      message: expect.stringContaining('too many failed sign-ins with this passkey'),
    });

    const genuine = await assertion(t, authenticator);
    expect(
      (await t.http.post('/v1/authentication/verify').set('X-Forwarded-For', PERSON).send({ response: genuine }))
        .status,
    ).toBe(200);
    expect(await signIn(t, authenticator)).toEqual(expect.any(String));
  });
});

describe('the global ceilings', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ ...LIMITS, RATE_LIMIT_PER_MINUTE: '15', RATE_LIMIT_CLIENT_PER_MINUTE: '25' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('a flood from one forwarded address does not block another address, nor a client with a valid Bearer token', async () => {
    // Airflow's own credential: its token is obtained before the flood, from Airflow's address (loopback).
    const airflow = await serviceAccountToken(t, [], 'airflow');
    let status = 0;
    for (let i = 0; i < 16 && status !== 429; i++)
      status = (await t.http.get('/.well-known/jwks.json').set('X-Forwarded-For', ATTACKER)).status;
    expect(status).toBe(429);
    const limited = await t.http.get('/.well-known/openid-configuration').set('X-Forwarded-For', ATTACKER);
    expect(limited.status).toBe(429);
    expect(limited.body).toMatchObject({
      code: 'rate_limited',
      message: expect.stringContaining('too many requests from your address'),
    });

    expect((await t.http.get('/.well-known/jwks.json').set('X-Forwarded-For', PERSON)).status).toBe(200);
    // A valid Bearer is counted by client id, even when it arrives from the flooded address.
    expect(
      (await t.http.get('/v1/me').set('X-Forwarded-For', ATTACKER).set('Authorization', `Bearer ${airflow.token}`))
        .status,
    ).not.toBe(429);
    // A forged or expired one is just another request from that address.
    expect(
      (await t.http.get('/v1/me').set('X-Forwarded-For', ATTACKER).set('Authorization', 'Bearer not.a.token')).status,
    ).toBe(429);
    // Health checks are never limited.
    expect((await t.http.get('/readyz').set('X-Forwarded-For', ATTACKER)).status).toBe(200);
  });

  it('a client whose credentials are right gets its token from a flooded address (its grants count by client id); a wrong secret there is refused', async () => {
    const airflow = await createServiceAccount(t, { name: 'airflow-regrant' });
    const FLOODED = '192.0.2.80';
    // The flood: bogus token requests (unknown clients, so no secret bucket fills) from the address Airflow shares.
    const flood: number[] = [];
    for (let i = 0; i < 17; i++) flood.push((await tokenFrom(t, FLOODED, `bogus-${i}`, 'x')).status);
    expect(flood).toContain(429);
    expect((await t.http.get('/.well-known/jwks.json').set('X-Forwarded-For', FLOODED)).status).toBe(429);
    // Airflow's re-grant from that address, by Basic and by the form body: counted by client id, not refused.
    const basic = await t.http
      .post('/v1/oauth/token')
      .type('form')
      .set('X-Forwarded-For', FLOODED)
      .auth(airflow.clientId, airflow.clientSecret)
      .send({ grant_type: 'client_credentials' });
    expect(basic.status).toBe(200);
    expect((await tokenFrom(t, FLOODED, airflow.clientId, airflow.clientSecret)).status).toBe(200);
    // A guessed-but-wrong secret, the right id with no secret, or a disabled client do not get the client's bucket.
    expect((await tokenFrom(t, FLOODED, airflow.clientId, 'guess')).status).toBe(429);
    expect(
      (
        await t.http
          .post('/v1/oauth/token')
          .type('form')
          .set('X-Forwarded-For', FLOODED)
          .send({ grant_type: 'client_credentials', client_id: airflow.clientId })
      ).status,
    ).toBe(429);
    await t.app.get(ServiceAccountsService).setDisabled(TEST_CONTEXT, airflow.id, true);
    expect((await tokenFrom(t, FLOODED, airflow.clientId, airflow.clientSecret)).status).toBe(429);
    // Its grants count in its own ceiling (25 a minute here), as its Bearer calls do.
    const robot = await createServiceAccount(t, { name: 'regrant-ceiling' });
    const grants: number[] = [];
    for (let i = 0; i < 26; i++) grants.push((await tokenFrom(t, FLOODED, robot.clientId, robot.clientSecret)).status);
    expect(grants.slice(0, 25)).toEqual(Array(25).fill(200));
    expect(grants[25]).toBe(429);
  });

  it('an authenticated client has its own, generous ceiling', async () => {
    const robot = await serviceAccountToken(t, [], 'busy-robot');
    // Its grant was the first of its 25 this minute (a grant that authenticates counts by client id too).
    const statuses: number[] = [];
    for (let i = 0; i < 25; i++)
      statuses.push((await t.http.get('/v1/me').set('Authorization', `Bearer ${robot.token}`)).status);
    expect(statuses.slice(0, 24)).not.toContain(429);
    expect(statuses[24]).toBe(429);
    const other = await serviceAccountToken(t, [], 'quiet-robot');
    expect((await t.http.get('/v1/me').set('Authorization', `Bearer ${other.token}`)).status).not.toBe(429);
  });
});

describe('limits shared by instances', () => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    first = await startTestApp(LIMITS);
    second = await startTestApp({
      ...LIMITS,
      DATABASE_URL: first.database.url,
      KEY_ENCRYPTION_KEY: first.env.KEY_ENCRYPTION_KEY,
    });
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  it('failures counted on one instance stop the guess on the other', async () => {
    const a = await createServiceAccount(first, { name: 'shared-a' });
    expect((await tokenFrom(first, ATTACKER, a.clientId, 'wrong-1')).status).toBe(401);
    expect((await tokenFrom(second, ATTACKER, a.clientId, 'wrong-2')).status).toBe(401);
    expect((await tokenFrom(first, ATTACKER, a.clientId, 'wrong-3')).status).toBe(401);
    expect((await tokenFrom(second, ATTACKER, a.clientId, 'wrong-4')).status).toBe(429);
    expect((await tokenFrom(second, PERSON, a.clientId, a.clientSecret)).status).toBe(200);
  });

  it('concurrent failures are all counted (atomic upserts): no more than the limit get through', async () => {
    const a = await createServiceAccount(first, { name: 'shared-b' });
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => tokenFrom(i % 2 ? first : second, '192.0.2.99', a.clientId, `wrong-${i}`)),
    );
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
  });
});

describe('what an attacker cannot force', () => {
  it('X-Forwarded-For from a peer TRUST_PROXY does not trust gives no fresh buckets', async () => {
    const t = await startTestApp({ ...LIMITS, TRUST_PROXY: 'false' });
    try {
      const a = await createServiceAccount(t, { name: 'untrusted-forwarding' });
      for (let i = 0; i < 3; i++)
        expect((await tokenFrom(t, `192.0.2.${100 + i}`, a.clientId, 'wrong')).status).toBe(401);
      // Every "address" above was the test client's own: the fourth guess is refused whatever it claims.
      expect((await tokenFrom(t, '192.0.2.200', a.clientId, 'wrong')).status).toBe(429);
    } finally {
      await t.close();
    }
  });

  it('fails closed when the counters cannot be read: 503 limits_unavailable, never a request let through or a 500', async () => {
    const t = await startTestApp(LIMITS);
    try {
      const a = await createServiceAccount(t, { name: 'no-counters' });
      await t.app.get(DataSource).query('DROP TABLE rate_limits');
      const res = await tokenFrom(t, ATTACKER, a.clientId, a.clientSecret);
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ code: 'limits_unavailable' });
      expect((await t.http.get('/healthz')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
