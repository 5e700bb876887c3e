/**
 * Sign-in through an OpenID provider, against a REAL provider (oidc-provider, its own process on loopback):
 * full authorization code flow with PKCE, just-in-time accounts, group sync, allowed groups, and the refusals.
 */
import { createServer, AddressInfo } from 'node:net';
import { Logger } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { UsersService } from '@app/accounts';
import { CLOCK, Clock } from '@app/config';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  REDIRECT_URI,
  RunningProvider,
  atProvider,
  callback,
  providerEnv,
  signInAt,
  startFlow as start,
  startProvider,
} from '../support/oidc-provider-control';
import { TEST_CONTEXT, TestApp, adminToken, createInvite, enrollPasskey, startTestApp } from '../support/test-app';

/** A loopback port nothing listens on (connections to it are refused, unlike fetch's blocked ports such as 9). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Polls a condition the service reaches on its own (discovery runs after start-up, not awaited by it). */
async function waitFor(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('OIDC sign-in with a real OpenID provider', () => {
  let op: RunningProvider;
  let t: TestApp;

  beforeAll(async () => {
    op = await startProvider();
    t = await startTestApp(providerEnv(op));
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await op?.stop();
  });
  afterEach(async () => op.tamper(''));

  it('says whether it is configured, and under which name', async () => {
    await t.http.get('/v1/oidc').expect(200, { enabled: true, displayName: 'your identity provider' });
  });

  it('starts with PKCE (S256), state and nonce, to the registered redirect URI', async () => {
    const { authorizationUrl, binding } = await start(t);
    const url = new URL(authorizationUrl);
    expect(url.origin).toBe(op.issuer);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toBeTruthy();
    expect(url.searchParams.get('nonce')).toBeTruthy();
    expect(url.searchParams.get('redirect_uri')).toBe(REDIRECT_URI);
    expect(binding).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('full code flow: creates the person just in time, linked by issuer and sub, and issues amr ["fed"] with idp', async () => {
    const res = await signInAt(t, 'bob');
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('signed_in');
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({ preferred_username: 'bob', groups: ['idp-viewers'], amr: ['fed'], idp: op.issuer });
    expect(claims.passkey_id).toBeUndefined();
    const user = await t.app.get(UsersService).findByUsername('bob');
    expect(user).toMatchObject({ idpIssuer: op.issuer, idpSubject: 'bob', groups: ['idp-viewers'] });
    expect(claims.sub).toBe(user!.id);
  });

  it("a second sign-in finds the same person again and replaces their groups with the provider's", async () => {
    const first = decodeJwt((await signInAt(t, 'bob')).body.access_token);
    const users = t.app.get(UsersService);
    await users.update(TEST_CONTEXT, 'bob', { groups: ['hand-added'] });
    const second = decodeJwt((await signInAt(t, 'bob')).body.access_token);
    expect(second.sub).toBe(first.sub);
    expect((await users.findByUsername('bob'))!.groups).toEqual(['idp-viewers']);
  });

  it("admins see a federated person's identity provider (its issuer) and last provider sign-in, API and views alike", async () => {
    await signInAt(t, 'bob').then((res) => expect(res.status).toBe(200));
    const bearer = { Authorization: `Bearer ${await adminToken(t)}` };
    const first = (await t.http.get('/v1/admin/users/bob').set(bearer).expect(200)).body;
    // A provider sign-in without a passkey step is recorded as such (access reviews show how people sign in).
    expect(first).toMatchObject({
      username: 'bob',
      idp: op.issuer,
      lastIdpLoginAt: expect.any(String),
      lastLoginMethod: 'provider',
    });
    expect(new Date(first.lastIdpLoginAt).toISOString()).toBe(first.lastIdpLoginAt);
    expect(JSON.stringify(first)).not.toMatch(/idpSubject|idp_subject/); // the provider's sub stays internal
    // The next sign-in a minute later on the service CLOCK (no real waiting): its time is the one recorded.
    const minuteLater = new Date(Date.parse(first.lastIdpLoginAt) + 60_000);
    const clock = jest.spyOn(t.app.get<Clock>(CLOCK), 'now').mockImplementation(() => new Date(minuteLater));
    try {
      await signInAt(t, 'bob').then((res) => expect(res.status).toBe(200));
    } finally {
      clock.mockRestore();
    }
    const listed = (await t.http.get('/v1/admin/users').set(bearer).expect(200)).body as Array<Record<string, unknown>>;
    const row = listed.find((u) => u.username === 'bob')!;
    expect(row.idp).toBe(op.issuer);
    expect(row.lastIdpLoginAt).toBe(minuteLater.toISOString());
    // The OpenAPI document describes both fields on the user view.
    const schema = (await t.http.get('/docs/openapi.json').expect(200)).body.components.schemas.UserView;
    expect(schema.properties).toMatchObject({
      idp: expect.objectContaining({ nullable: true }),
      lastIdpLoginAt: expect.objectContaining({ format: 'date-time', nullable: true }),
    });
  });

  it('two first sign-ins of one new person at once give one account and two clean answers, never a 500', async () => {
    // Several new people, each signing in twice at the same moment (two tabs, a double click): the callbacks pass
    // the provider together and race to create the account. Ids "bob-<n>" are bob's claims under a new username.
    const people = Array.from({ length: 4 }, (_, i) => `bob-race${i}-${Date.now().toString(36)}`);
    const queries = await Promise.all(
      people.flatMap((id) =>
        [0, 1].map(async () => {
          const flow = await start(t);
          return { id, flow, query: await atProvider(flow.authorizationUrl, id) };
        }),
      ),
    );
    const answers = await Promise.all(queries.map(({ flow, query }) => callback(t, flow, query)));
    expect(answers.map((a) => a.status)).toEqual(queries.map(() => 200));
    const users = t.app.get(UsersService);
    for (const id of people) {
      const user = await users.findByUsername(id);
      expect(user).toMatchObject({ idpIssuer: op.issuer, idpSubject: id });
      const subs = answers.filter((_, i) => queries[i]!.id === id).map((a) => decodeJwt(a.body.access_token).sub);
      expect(subs).toEqual([user!.id, user!.id]);
    }
    const created = (await users.list()).filter((u) => people.includes(u.username));
    expect(created).toHaveLength(people.length);
  }, 30_000); // eight code flows at once on a shared 2-core runner

  it('a provider token alone is not a passkey sign-in: the service API refuses it', async () => {
    const token = (await signInAt(t, 'bob')).body.access_token;
    const res = await t.http.get('/v1/me').set('authorization', `Bearer ${token}`).expect(401);
    expect(res.body.code).toBe('unauthenticated');
  });

  it('a person disabled here cannot start a new session through the provider (and keeps no groups update)', async () => {
    await signInAt(t, 'bob').then((res) => expect(res.status).toBe(200));
    const users = t.app.get(UsersService);
    await users.setDisabled(TEST_CONTEXT, 'bob', true);
    try {
      const res = await signInAt(t, 'bob');
      expect(res.status).toBe(401);
      expect(res.body.access_token).toBeUndefined();
      expect(res.body.message).toMatch(/disabled/);
    } finally {
      await users.setDisabled(TEST_CONTEXT, 'bob', false);
    }
  });

  it('a person in a passkey-required group gets no token from the provider alone', async () => {
    const res = await signInAt(t, 'alice');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      status: 'passkey_required',
      action: 'enroll',
      pending: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  });

  it('never takes over a local (invited) account with the same username', async () => {
    await createInvite(t, { username: 'localadmin', groups: ['airflow-admins'] }).then((inviteToken) =>
      enrollPasskey(t, new SoftAuthenticator(), { inviteToken }),
    );
    const res = await signInAt(t, 'mallory');
    expect(res.status).toBe(409);
    expect(res.body.message).toMatch(/already exists here and is not linked/);
    const local = await t.app.get(UsersService).findByUsername('localadmin');
    expect(local).toMatchObject({ idpIssuer: null, groups: ['airflow-admins'] });
  });

  it('refuses a replayed callback (state is single-use)', async () => {
    const flow = await start(t);
    const query = await atProvider(flow.authorizationUrl, 'bob');
    await callback(t, flow, query).expect(200);
    const replay = await callback(t, flow, query).expect(400);
    expect(replay.body.message).toMatch(/unknown or was already used/);
  });

  it('refuses a forged state, and a flow finished in another browser (binding) — and that flow is then spent', async () => {
    const flow = await start(t);
    const query = await atProvider(flow.authorizationUrl, 'bob');
    const forged = query.replace(/state=[^&]+/, 'state=forged-state-value');
    await callback(t, flow, forged).expect(400);
    const other = await start(t);
    const res = await callback(t, other, query).expect(400);
    expect(res.body.message).toMatch(/another browser/);
    await callback(t, flow, query).expect(400);
  });

  it('the provider refusing (access_denied) is a clear 401 and no account', async () => {
    const res = await signInAt(t, 'deny');
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/did not sign you in/);
  });

  it('a refusal carrying a long error from the browser is a clean 401 (the audit reason is a fixed code)', async () => {
    const flow = await start(t);
    const state = new URL(flow.authorizationUrl).searchParams.get('state')!;
    const query = new URLSearchParams({
      error: 'x'.repeat(300),
      error_description: 'y'.repeat(1000),
      state,
      iss: op.issuer,
    }).toString();
    const res = await callback(t, flow, query).expect(401);
    expect(res.body.message).toMatch(/did not sign you in/);
  });

  it.each([
    ['wrong-issuer', 'an ID token from another issuer'],
    ['wrong-audience', 'an ID token for another audience'],
    ['wrong-nonce', 'an ID token with the wrong nonce'],
    ['expired', 'an expired ID token'],
    ['alg-none', 'an unsigned ID token (alg none)'],
    ['hs256-public-key', 'an ID token "signed" with HS256 keyed with the provider\'s public key'],
    ['bad-signature', 'an ID token whose signature does not verify'],
  ])('refuses %s (%s): 401, no token, no account', async (mode) => {
    await op.tamper(mode);
    const res = await signInAt(t, 'carol');
    expect(res.status).toBe(401);
    expect(res.body.access_token).toBeUndefined();
    expect(res.body.message).toMatch(/did not pass the checks/);
    expect(await t.app.get(UsersService).findByUsername('carol')).toBeNull();
  });
});

describe('OIDC sign-in policy and failure modes', () => {
  let op: RunningProvider;
  beforeAll(async () => {
    op = await startProvider();
  }, 60_000);
  afterAll(async () => op?.stop());

  it('OIDC_ALLOWED_GROUPS: a person in none of them is refused with a clear 403 and gets no account', async () => {
    const t = await startTestApp(providerEnv(op, { OIDC_ALLOWED_GROUPS: 'idp-viewers,idp-admins' }));
    try {
      const res = await signInAt(t, 'carol');
      expect(res.status).toBe(403);
      expect(res.body.message).toMatch(/not in a group allowed/);
      expect(await t.app.get(UsersService).findByUsername('carol')).toBeNull();
      expect((await signInAt(t, 'bob')).status).toBe(200);
    } finally {
      await t.close();
    }
  });

  it('an expired flow is refused', async () => {
    const t = await startTestApp(providerEnv(op));
    try {
      const flow = await start(t);
      const query = await atProvider(flow.authorizationUrl, 'bob');
      // Eleven minutes on, on the service CLOCK: past the flow's ten.
      const later = new Date(Date.now() + 11 * 60 * 1000);
      const clock = jest.spyOn(t.app.get<Clock>(CLOCK), 'now').mockImplementation(() => new Date(later));
      try {
        const res = await callback(t, flow, query).expect(400);
        expect(res.body.message).toMatch(/expired/);
      } finally {
        clock.mockRestore();
      }
    } finally {
      await t.close();
    }
  });

  it('the provider unreachable: 503 with a clear message, nothing stored', async () => {
    const t = await startTestApp(providerEnv(op, { OIDC_ISSUER: 'http://127.0.0.1:9/' }));
    try {
      const res = await t.http.post('/v1/oidc/start').send({}).expect(503);
      expect(res.body.message).toMatch(/cannot be reached/);
    } finally {
      await t.close();
    }
  });

  it('says at start-up that provider sign-in is on, for which issuer and client, and that discovery worked; /readyz reports ok', async () => {
    const lines = jest.spyOn(Logger.prototype, 'log');
    const t = await startTestApp(providerEnv(op));
    try {
      await waitFor(() => lines.mock.calls.some(([message]) => String(message).startsWith('provider sign-in on:')));
      const line = String(lines.mock.calls.find(([message]) => String(message).startsWith('provider sign-in on:'))![0]);
      expect(line).toContain(`issuer ${op.issuer}`);
      expect(line).toContain(`client id ${t.config.oidc!.clientId}`);
      expect(line).toContain('discovery ok');
      const ready = await t.http.get('/readyz').expect(200);
      expect(ready.body.info.identityProvider).toEqual({ status: 'up', state: 'ok', issuer: t.config.oidc!.issuer });
    } finally {
      lines.mockRestore();
      await t.close();
    }
  });

  it('a provider that cannot be reached: one start-up line with the URL and cause, /readyz still 200 with state failed, no stack trace on a sign-in', async () => {
    const warnings = jest.spyOn(Logger.prototype, 'warn');
    const errors = jest.spyOn(Logger.prototype, 'error');
    const issuer = `http://127.0.0.1:${await closedPort()}/`;
    const t = await startTestApp(providerEnv(op, { OIDC_ISSUER: issuer }));
    try {
      await waitFor(() => warnings.mock.calls.length > 0);
      expect(warnings.mock.calls).toHaveLength(1);
      const line = String(warnings.mock.calls[0]![0]);
      expect(line).toContain(`provider sign-in on: issuer ${issuer}, client id ${t.config.oidc!.clientId}; `);
      expect(line).toMatch(
        /discovery of http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration failed: .*ECONNREFUSED/,
      );
      expect(line).not.toContain('\n');

      const ready = await t.http.get('/readyz').expect(200);
      expect(ready.body.status).toBe('ok');
      expect(ready.body.info.identityProvider).toMatchObject({ status: 'up', state: 'failed', issuer });
      expect(ready.body.info.identityProvider.error).toMatch(/openid-configuration failed: .*ECONNREFUSED/);

      warnings.mockClear();
      await t.http.post('/v1/oidc/start').send({}).expect(503);
      expect(warnings.mock.calls).toHaveLength(1);
      expect(String(warnings.mock.calls[0]![0])).toMatch(
        /^discovery of http:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration failed: .*ECONNREFUSED/,
      );
      // The access log's line for the 503 is all: no stack trace anywhere (the error filter used to log one).
      const errorLines = errors.mock.calls.map(([message]) =>
        typeof message === 'string' ? message : JSON.stringify(message),
      );
      expect(errorLines.filter((message) => /\n\s+at /.test(message))).toEqual([]);
      expect(errors.mock.calls.length).toBeLessThanOrEqual(1);
    } finally {
      warnings.mockRestore();
      errors.mockRestore();
      await t.close();
    }
  });

  it('without OIDC_ISSUER the feature is off: 404 on start, enabled false', async () => {
    const t = await startTestApp();
    try {
      await t.http.get('/v1/oidc').expect(200, { enabled: false });
      await t.http.post('/v1/oidc/start').send({}).expect(404);
      expect((await t.http.get('/readyz').expect(200)).body.info.identityProvider).toEqual({
        status: 'up',
        state: 'off',
      });
    } finally {
      await t.close();
    }
  });
});
