/**
 * private_key_jwt client authentication (RFC 7523 §2.2, RFC 7521 §4.2, OIDC Core §9): a service account or agent
 * registers 1-3 public keys and proves who it is at the token and device authorization endpoints with a short-lived
 * JWT signed by one of them, each jti accepted once (concurrent replays too, on PostgreSQL by the unique constraint).
 * Every refusal is invalid_client (401) and counts against the client like a wrong secret; sending a secret and an
 * assertion together is invalid_request. SQLite, and PostgreSQL with E2E_DATABASE_URL.
 */
import { generateKeyPairSync, KeyObject, randomUUID } from 'node:crypto';
import { decodeJwt, SignJWT } from 'jose';
import { CLOCK, Clock } from '@app/config';
import { adminToken, signedInPerson, startTestApp, TestApp } from '../support/test-app';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

type KeyPair = { publicKey: KeyObject; privateKey: KeyObject };
interface KeyClient {
  id: string;
  name: string;
  clientId: string;
  clientSecret?: string;
  key: KeyPair;
}

let t: TestApp;
let admin: string;
let tokenEndpoint: string;
let address = 0;
let offsetMs = 0;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const ed25519 = (): KeyPair => generateKeyPairSync('ed25519');
const jwksOf = (...pairs: KeyPair[]) => ({ keys: pairs.map((pair) => pair.publicKey.export({ format: 'jwk' })) });
const nowSeconds = () => Math.floor((Date.now() + offsetMs) / 1000);

/** A client assertion for `client`, signed by `key` (its own by default); `claims` override or (undefined) drop. */
function assertionFor(
  client: { clientId: string; key: KeyPair },
  claims: Record<string, unknown> = {},
  key: KeyPair = client.key,
): Promise<string> {
  const now = nowSeconds();
  const base = {
    iss: client.clientId,
    sub: client.clientId,
    aud: tokenEndpoint,
    jti: randomUUID(),
    iat: now,
    exp: now + 60,
  };
  const payload = Object.fromEntries(Object.entries({ ...base, ...claims }).filter(([, v]) => v !== undefined));
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA' }).sign(key.privateKey);
}

const withAssertion = (assertion: string) => ({ client_assertion_type: ASSERTION_TYPE, client_assertion: assertion });

/**
 * A form request to an OAuth endpoint from its own address by default: each test's failures stay in their own
 * failed-authentication bucket, except where a test checks that bucket.
 */
function oauth(path: string, form: Record<string, string>, from = `198.51.100.${(address++ % 250) + 1}`) {
  return t.http.post(path).set('X-Forwarded-For', from).type('form').send(form);
}
const clientCredentials = (form: Record<string, string>, from?: string) =>
  oauth('/v1/oauth/token', { grant_type: 'client_credentials', ...form }, from);

async function keyClient(opts: { agent?: boolean; key?: KeyPair } = {}): Promise<KeyClient> {
  const key = opts.key ?? ed25519();
  const res = await t.http
    .post('/v1/admin/service-accounts')
    .set(bearer(admin))
    .send({ name: `pk-${randomUUID().slice(0, 8)}`, agent: opts.agent === true, jwks: jwksOf(key) });
  expect(res.status).toBe(201);
  return { ...res.body, key };
}

function refusedWith(res: { status: number; body: { error?: string } }, error = 'invalid_client') {
  expect({ status: res.status, error: res.body.error }).toEqual({
    status: error === 'invalid_client' ? 401 : 400,
    error,
  });
}

async function failureReasons(clientId: string): Promise<string[]> {
  const res = await t.http.get('/v1/admin/audit').query({ type: 'token.issued', limit: 200 }).set(bearer(admin));
  expect(res.status).toBe(200);
  return (res.body.items as { outcome: string; reason: string | null; details: { clientId?: string } }[])
    .filter((e) => e.outcome === 'failure' && e.details.clientId === clientId)
    .map((e) => e.reason ?? '');
}

beforeAll(async () => {
  t = await startTestApp({
    RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000',
    RATE_LIMIT_CEREMONY_STARTS_PER_MINUTE: '1000',
    RATE_LIMIT_FAILED_SECRETS: '3',
  });
  admin = await adminToken(t);
  tokenEndpoint = `${t.config.publicUrl}/v1/oauth/token`;
  const clock = t.app.get<Clock>(CLOCK);
  jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + offsetMs));
});
afterAll(async () => {
  jest.restoreAllMocks();
  await t?.close();
});

describe('discovery', () => {
  it('lists private_key_jwt and the assertion signing algorithms (never none or HS*)', async () => {
    const res = await t.http.get('/.well-known/openid-configuration');
    expect(res.body.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
    expect(res.body.token_endpoint_auth_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['EdDSA', 'ES256', 'RS256', 'PS256']),
    );
    expect(res.body.token_endpoint_auth_signing_alg_values_supported.join(' ')).not.toMatch(/none|HS/);
  });
  it('the OpenAPI document lists the assertion fields on both endpoints', async () => {
    const doc = (await t.http.get('/docs/openapi.json')).body;
    for (const path of ['/v1/oauth/token', '/v1/oauth/device_authorization']) {
      const form = doc.paths[path].post.requestBody.content['application/x-www-form-urlencoded'].schema;
      expect(form.properties.client_assertion_type.enum).toEqual([ASSERTION_TYPE]);
      expect(form.properties.client_assertion).toBeDefined();
    }
  });
});

describe('registering keys', () => {
  it('a client created with keys gets no secret; its keys are listed by kid and audited', async () => {
    const client = await keyClient();
    expect(client.clientSecret).toBeUndefined();
    const list = await t.http.get('/v1/admin/service-accounts').set(bearer(admin));
    const listed = list.body.find((a: { id: string }) => a.id === client.id);
    expect(listed.jwks.keys).toEqual([
      expect.objectContaining({ kty: 'OKP', crv: 'Ed25519', kid: expect.any(String) }),
    ]);
    const audit = await t.http
      .get('/v1/admin/audit')
      .query({ type: 'service_account.created', limit: 50 })
      .set(bearer(admin));
    const created = audit.body.items.find((e: { subjectId: string }) => e.subjectId === client.id);
    expect(created.details.keys).toEqual([{ kid: listed.jwks.keys[0].kid, kty: 'OKP' }]);
  });

  it('refuses a private key, a symmetric key, a short RSA key and more than three keys (400, nothing created)', async () => {
    const privateJwk = ed25519().privateKey.export({ format: 'jwk' });
    const shortRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' });
    for (const jwks of [
      { keys: [privateJwk] },
      { keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldA' }] },
      { keys: [shortRsa] },
      jwksOf(ed25519(), ed25519(), ed25519(), ed25519()),
    ]) {
      const name = `pk-bad-${randomUUID().slice(0, 8)}`;
      const res = await t.http.post('/v1/admin/service-accounts').set(bearer(admin)).send({ name, jwks });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(/^jwks: /);
      const list = await t.http.get('/v1/admin/service-accounts').set(bearer(admin));
      expect(list.body.map((a: { name: string }) => a.name)).not.toContain(name);
    }
  });

  it('an admin replaces the keys (PUT, audited): the old key stops working, the new one works', async () => {
    const client = await keyClient();
    const next = ed25519();
    const res = await t.http
      .put(`/v1/admin/service-accounts/${client.name}/keys`)
      .set(bearer(admin))
      .send({ jwks: jwksOf(next) });
    expect(res.status).toBe(200);
    refusedWith(await clientCredentials(withAssertion(await assertionFor(client))));
    expect((await clientCredentials(withAssertion(await assertionFor(client, {}, next)))).status).toBe(200);
    const refused = await t.http
      .put(`/v1/admin/service-accounts/${client.name}/keys`)
      .set(bearer(admin))
      .send({ jwks: { keys: [next.privateKey.export({ format: 'jwk' })] } });
    expect(refused.status).toBe(400);
    const audit = await t.http
      .get('/v1/admin/audit')
      .query({ type: 'service_account.keys_replaced', limit: 50 })
      .set(bearer(admin));
    expect(audit.body.items.map((e: { subjectId: string }) => e.subjectId)).toEqual([client.id]);
  });
});

describe('client credentials with a client assertion', () => {
  it('issues a token for the client the assertion names, with or without a matching client_id', async () => {
    const client = await keyClient();
    const res = await clientCredentials(withAssertion(await assertionFor(client)));
    expect(res.status).toBe(200);
    expect(decodeJwt(res.body.access_token)).toMatchObject({ sub: client.id, client_id: client.clientId });
    const named = await clientCredentials({ client_id: client.clientId, ...withAssertion(await assertionFor(client)) });
    expect(named.status).toBe(200);
    const byIssuer = await clientCredentials(withAssertion(await assertionFor(client, { aud: t.config.jwt.issuer })));
    expect(byIssuer.status).toBe(200);
  });

  it.each([
    ['signed by another key', () => ({ key: ed25519() }), 'assertion_bad_signature'],
    ['expired', () => ({ claims: { iat: nowSeconds() - 600, exp: nowSeconds() - 120 } }), 'assertion_expired'],
    [
      'with exp more than five minutes ahead',
      () => ({ claims: { exp: nowSeconds() + 900 } }),
      'assertion_lifetime_too_long',
    ],
    ['without jti', () => ({ claims: { jti: undefined } }), 'assertion_bad_jti'],
    ['for another audience', () => ({ claims: { aud: 'https://elsewhere.example/token' } }), 'assertion_bad_aud'],
    ['whose iss is not its sub', () => ({ claims: { iss: 'sa_someone_else' } }), 'assertion_bad_iss'],
  ])('refuses an assertion %s (invalid_client, audited)', async (_what, variant, reason) => {
    const client = await keyClient();
    const { key, claims } = variant() as { key?: KeyPair; claims?: Record<string, unknown> };
    refusedWith(await clientCredentials(withAssertion(await assertionFor(client, claims, key))));
    expect(await failureReasons(client.clientId)).toEqual([reason]);
  });

  it('refuses alg none, and HS256 keyed with the registered public key', async () => {
    const client = await keyClient();
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = {
      iss: client.clientId,
      sub: client.clientId,
      aud: tokenEndpoint,
      jti: randomUUID(),
      exp: nowSeconds() + 60,
    };
    refusedWith(await clientCredentials(withAssertion(`${encode({ alg: 'none' })}.${encode(claims)}.`)));
    const publicKeyAsSecret = new TextEncoder().encode(JSON.stringify(client.key.publicKey.export({ format: 'jwk' })));
    const hs256 = await new SignJWT({ ...claims, jti: randomUUID() })
      .setProtectedHeader({ alg: 'HS256' })
      .sign(publicKeyAsSecret);
    refusedWith(await clientCredentials(withAssertion(hs256)));
    expect(await failureReasons(client.clientId)).toEqual(['assertion_alg_refused', 'assertion_alg_refused']);
  });

  it('accepts a jti once: a replay is refused', async () => {
    const client = await keyClient();
    const assertion = await assertionFor(client);
    expect((await clientCredentials(withAssertion(assertion))).status).toBe(200);
    refusedWith(await clientCredentials(withAssertion(assertion)));
    expect(await failureReasons(client.clientId)).toEqual(['assertion_replayed']);
  });

  it('of several concurrent presentations of one assertion, exactly one gets a token', async () => {
    const client = await keyClient();
    const assertion = await assertionFor(client);
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => clientCredentials(withAssertion(assertion))));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401, 401, 401]);
  });

  it('refuses a client_id other than the one the assertion names', async () => {
    const [client, other] = [await keyClient(), await keyClient()];
    const res = await clientCredentials({ client_id: other.clientId, ...withAssertion(await assertionFor(client)) });
    refusedWith(res);
  });

  it('refuses an unknown client, a disabled client, and a client that registered no keys', async () => {
    const ghost = { clientId: 'sa_not_registered', key: ed25519() };
    refusedWith(await clientCredentials(withAssertion(await assertionFor(ghost))));
    const client = await keyClient();
    expect((await t.http.post(`/v1/admin/service-accounts/${client.id}/disable`).set(bearer(admin))).status).toBe(200);
    refusedWith(await clientCredentials(withAssertion(await assertionFor(client))));
    const secretOnly = await t.http
      .post('/v1/admin/service-accounts')
      .set(bearer(admin))
      .send({ name: `sa-${randomUUID().slice(0, 8)}` });
    refusedWith(await clientCredentials(withAssertion(await assertionFor({ ...secretOnly.body, key: ed25519() }))));
    expect(await failureReasons(client.clientId)).toEqual(['client_disabled']);
    expect(await failureReasons(secretOnly.body.clientId)).toEqual(['no_client_keys']);
  });

  it('refuses a secret and an assertion together, and an unknown assertion type (before any check)', async () => {
    const client = await keyClient();
    const secret = await t.http.post(`/v1/admin/service-accounts/${client.id}/rotate-secret`).set(bearer(admin));
    const both = await clientCredentials({
      client_id: client.clientId,
      client_secret: secret.body.clientSecret,
      ...withAssertion(await assertionFor(client)),
    });
    refusedWith(both, 'invalid_request');
    const basic = `Basic ${Buffer.from(`${client.clientId}:${secret.body.clientSecret}`).toString('base64')}`;
    const basicToo = await t.http
      .post('/v1/oauth/token')
      .set('Authorization', basic)
      .type('form')
      .send({ grant_type: 'client_credentials', ...withAssertion(await assertionFor(client)) });
    refusedWith(basicToo, 'invalid_request');
    const saml = await clientCredentials({
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:saml2-bearer',
      client_assertion: await assertionFor(client),
    });
    refusedWith(saml);
    // Besides its key, the client may also use the secret it was given.
    expect(
      (await clientCredentials({ client_id: client.clientId, client_secret: secret.body.clientSecret })).status,
    ).toBe(200);
  });

  it('failed assertions count against the client like wrong secrets: the limit stops guessing from one address', async () => {
    const client = await keyClient();
    const from = '203.0.113.77';
    for (let i = 0; i < 3; i++)
      refusedWith(await clientCredentials(withAssertion(await assertionFor(client, {}, ed25519())), from));
    const limited = await clientCredentials(withAssertion(await assertionFor(client)), from);
    expect(limited.status).toBe(429);
    expect((await clientCredentials(withAssertion(await assertionFor(client)))).status).toBe(200);
  });
});

describe("an agent's device flow, refresh and token exchange with assertions", () => {
  it('asks, is approved, polls, refreshes and exchanges, proving itself with a fresh assertion each time', async () => {
    const agent = await keyClient({ agent: true });
    const started = await oauth('/v1/oauth/device_authorization', {
      scope: 'dag:read:id=finance_*',
      ...withAssertion(await assertionFor(agent)),
    });
    expect(started.status).toBe(200);
    const p = await signedInPerson(t, { groups: ['finance-users'] });
    const shown = await t.http.get(`/v1/me/device-requests/${started.body.user_code}`).set(bearer(p.token));
    expect(shown.body).toMatchObject({ clientId: agent.clientId, kind: 'agent' });
    const decided = await t.http
      .post(`/v1/me/device-requests/${started.body.user_code}/approve`)
      .set(bearer(p.token))
      .send({});
    expect(decided.status).toBe(200);
    offsetMs += 5000;
    const poll = (assertion: string) =>
      oauth('/v1/oauth/token', {
        grant_type: DEVICE_GRANT,
        device_code: started.body.device_code,
        ...withAssertion(assertion),
      });
    refusedWith(await poll(await assertionFor(agent, {}, ed25519())));
    const token = await poll(await assertionFor(agent));
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token)).toMatchObject({ sub: p.id, act: { sub: agent.clientId } });

    const refreshAssertion = await assertionFor(agent);
    const refreshed = await oauth('/v1/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: token.body.refresh_token,
      ...withAssertion(refreshAssertion),
    });
    expect(refreshed.status).toBe(200);
    const replayed = await oauth('/v1/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: refreshed.body.refresh_token,
      ...withAssertion(refreshAssertion),
    });
    refusedWith(replayed);

    const subAgent = await keyClient({ agent: true });
    const exchanged = await oauth('/v1/oauth/token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: refreshed.body.access_token,
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      scope: 'dag:read:id=finance_daily',
      ...withAssertion(await assertionFor(subAgent)),
    });
    expect(exchanged.status).toBe(200);
    expect(decodeJwt(exchanged.body.access_token)).toMatchObject({
      sub: p.id,
      act: { sub: subAgent.clientId, act: { sub: agent.clientId } },
    });
  });
});
