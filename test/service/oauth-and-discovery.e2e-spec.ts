import { spawnSync } from 'node:child_process';
import { DataSource } from 'typeorm';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { createServiceAccount, serviceAccountToken, startTestApp, TestApp } from '../support/test-app';

describe('service accounts: OAuth 2.0 client credentials (RFC 6749 §4.4)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  const basic = (id: string, secret: string) =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  it('issues a token to a client authenticated with HTTP Basic', async () => {
    const account = await createServiceAccount(t, { groups: ['ci'] });
    const res = await t.http
      .post('/v1/oauth/token')
      .set('Authorization', basic(account.clientId, account.clientSecret))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    // scope: what the token carries (none here), so a client such as Airflow can check what it holds.
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 900, scope: '' });
    const jwks = (await t.http.get('/.well-known/jwks.json')).body;
    const { payload } = await jwtVerify(res.body.access_token, createLocalJWKSet(jwks), {
      issuer: t.config.jwt.issuer,
      audience: 'airflow',
      typ: 'at+jwt',
    });
    expect(payload).toMatchObject({
      sub: account.id,
      client_id: account.clientId,
      groups: ['ci'],
      preferred_username: account.name,
    });
    expect(payload.amr).toBeUndefined();
  });

  it('issues a token to a client authenticated in the body', async () => {
    const account = await createServiceAccount(t);
    const res = await t.http
      .post('/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: account.clientId, client_secret: account.clientSecret });
    expect(res.status).toBe(200);
    expect(decodeProtectedHeader(res.body.access_token)).toMatchObject({ typ: 'at+jwt', alg: 'EdDSA' });
    expect(decodeJwt(res.body.access_token).jti).not.toBe(
      decodeJwt(
        (
          await t.http.post('/v1/oauth/token').type('form').send({
            grant_type: 'client_credentials',
            client_id: account.clientId,
            client_secret: account.clientSecret,
          })
        ).body.access_token,
      ).jti,
    );
  });

  it.each([
    ['a wrong secret', (id: string) => ({ grant_type: 'client_credentials', client_id: id, client_secret: 'wrong' })],
    ['an unknown client', () => ({ grant_type: 'client_credentials', client_id: 'sa_nobody', client_secret: 'x' })],
    ['no client authentication', () => ({ grant_type: 'client_credentials' })],
  ])('answers %s with 401 invalid_client', async (_label, form) => {
    const account = await createServiceAccount(t);
    const res = await t.http.post('/v1/oauth/token').type('form').send(form(account.clientId));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.any(String) });
    expect(JSON.stringify(res.body)).not.toContain(account.clientSecret);
  });

  it('answers HTTP Basic with a wrong secret with 401 and a Basic challenge', async () => {
    const account = await createServiceAccount(t);
    const res = await t.http
      .post('/v1/oauth/token')
      .set('Authorization', basic(account.clientId, 'nope'))
      .type('form')
      .send({ grant_type: 'client_credentials' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });

  it('refuses another grant type with unsupported_grant_type', async () => {
    const account = await createServiceAccount(t);
    const res = await t.http
      .post('/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'password', client_id: account.clientId, client_secret: account.clientSecret });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('unsupported_grant_type');
  });

  it.each([
    ['a missing grant_type', { client_id: 'a', client_secret: 'b' }],
    ['repeated parameters', 'grant_type=client_credentials&grant_type=client_credentials&client_id=a&client_secret=b'],
  ])('refuses %s with invalid_request', async (_label, body) => {
    const res = await t.http.post('/v1/oauth/token').type('form').send(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses two client authentication methods at once', async () => {
    const account = await createServiceAccount(t);
    const res = await t.http
      .post('/v1/oauth/token')
      .set('Authorization', basic(account.clientId, account.clientSecret))
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: account.clientId, client_secret: account.clientSecret });
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses a JSON body: the token endpoint is form-encoded', async () => {
    const account = await createServiceAccount(t);
    const res = await t.http
      .post('/v1/oauth/token')
      .send({ grant_type: 'client_credentials', client_id: account.clientId, client_secret: account.clientSecret });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('audits issued and refused tokens without recording the secret', async () => {
    const { clientId, clientSecret } = await serviceAccountToken(t, ['ci']);
    await t.http
      .post('/v1/oauth/token')
      .type('form')
      .send({ grant_type: 'client_credentials', client_id: clientId, client_secret: 'bad' });
    const events = await t.app
      .get(DataSource)
      .query(`SELECT outcome, reason, details FROM audit_events WHERE type = 'token.issued' ORDER BY occurred_at`);
    expect(events.some((e: { outcome: string }) => e.outcome === 'success')).toBe(true);
    expect(events.some((e: { reason: string }) => e.reason === 'bad_secret')).toBe(true);
    expect(JSON.stringify(events)).not.toContain(clientSecret);
  });
});

describe('discovery, health and hardening', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => t?.close());

  it('publishes an OpenID-style discovery document', async () => {
    const res = await t.http.get('/.well-known/openid-configuration');
    expect(res.body).toMatchObject({
      issuer: t.config.jwt.issuer,
      jwks_uri: expect.stringMatching(/\/.well-known\/jwks.json$/),
      token_endpoint: expect.stringMatching(/\/v1\/oauth\/token$/),
      grant_types_supported: [
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:device_code',
        'refresh_token',
        'urn:ietf:params:oauth:grant-type:token-exchange',
      ],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'],
      token_endpoint_auth_signing_alg_values_supported: ['EdDSA', 'Ed25519', 'ES256', 'RS256', 'PS256'],
      id_token_signing_alg_values_supported: ['EdDSA'],
    });
  });

  it('publishes only public keys, the active and the next one, each with kid, alg and use', async () => {
    const { keys } = (await t.http.get('/.well-known/jwks.json')).body;
    expect(keys).toHaveLength(2);
    for (const key of keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
      expect(key.d).toBeUndefined();
    }
  });

  it('answers liveness and readiness', async () => {
    expect((await t.http.get('/healthz')).body).toEqual({ status: 'ok' });
    const ready = await t.http.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.info.database.status).toBe('up');
  });

  it('serves the OpenAPI document', async () => {
    const res = await t.http.get('/docs/openapi.json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/v1/registration/options', '/v1/authentication/verify', '/v1/oauth/token']),
    );
  });

  it('sends security headers and hides the framework', async () => {
    const res = await t.http.get('/healthz');
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toBeDefined();
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('answers an unknown route with a JSON 404', async () => {
    const res = await t.http.get('/nope');
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404, error: 'Not Found' });
  });
});

describe('start-up configuration check', () => {
  const main = 'dist/apps/auth-service/src/main.js';
  it('exits non-zero with one line per bad value', () => {
    const result = spawnSync(process.execPath, [main], {
      env: { PATH: process.env.PATH, PORT: 'eighty', WEBAUTHN_ORIGINS: 'https://a.example' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    const lines = result.stderr.split('\n').filter((l) => l.startsWith('  - '));
    expect(lines.map((l) => l.slice(4).split(/[ :]/)[0]).sort()).toEqual([
      'KEY_ENCRYPTION_KEY',
      'PORT',
      'WEBAUTHN_RP_ID',
    ]);
  });
});
