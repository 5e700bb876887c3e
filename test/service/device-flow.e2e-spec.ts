/**
 * Device authorization (RFC 8628): a command line asks (airflow-cli, public; or a confidential client), the person
 * approves its user code with a fresh passkey confirmation or denies it, and the command line's poll then gets a
 * token naming a command line (cli_sign_ins) that is listed, re-checked and revocable like a one-time CLI code's.
 * Time moves through the service's injected CLOCK, never by waiting.
 */
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { decodeJwt } from 'jose';
import { DataSource } from 'typeorm';
import { UsersService } from '@app/accounts';
import { CLOCK, Clock } from '@app/config';
import { runServiceCli } from '../support/service-cli';
import {
  adminToken,
  createServiceAccount,
  serviceAccountToken,
  signedInPerson,
  SignedInPerson,
  startTestApp,
  TEST_CONTEXT,
  TEST_ORIGIN,
  TestApp,
} from '../support/test-app';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const CLI_ADDRESS = '198.51.100.21';
const USER_AGENT = 'airflow-webauthn-login/test';

let t: TestApp;
let offsetMs = 0;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const basic = (id: string, secret: string) => ({
  Authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});
const person = (opts: { userVerification?: boolean } = {}) => signedInPerson(t, { groups: ['airflow-users'], ...opts });
/** Moves the device requests' clock on (expiry, polling interval) instead of waiting. */
const advance = (seconds: number) => {
  offsetMs += seconds * 1000;
};

function deviceAuthorization(form: Record<string, string>, headers: Record<string, string> = {}) {
  return t.http
    .post('/v1/oauth/device_authorization')
    .set({ 'X-Forwarded-For': CLI_ADDRESS, 'User-Agent': USER_AGENT, ...headers })
    .type('form')
    .send(form);
}

interface Started {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function start(form: Record<string, string> = { client_id: 'airflow-cli' }, headers = {}): Promise<Started> {
  const res = await deviceAuthorization(form, headers);
  expect(res.status).toBe(200);
  return res.body;
}

function poll(deviceCode: string, form: Record<string, string> = { client_id: 'airflow-cli' }, headers = {}) {
  return t.http
    .post('/v1/oauth/token')
    .set({ 'X-Forwarded-For': CLI_ADDRESS, 'User-Agent': USER_AGENT, ...headers })
    .type('form')
    .send({ grant_type: DEVICE_GRANT, device_code: deviceCode, ...form });
}

const view = (p: SignedInPerson, userCode: string, address = '203.0.113.5') =>
  t.http
    .get(`/v1/me/device-requests/${encodeURIComponent(userCode)}`)
    .set(bearer(p.token))
    .set('X-Forwarded-For', address);
const decide = (p: SignedInPerson, userCode: string, decision: 'approve' | 'deny', address = '203.0.113.5') =>
  t.http
    .post(`/v1/me/device-requests/${encodeURIComponent(userCode)}/${decision}`)
    .set(bearer(p.token))
    .set('X-Forwarded-For', address)
    .send({});

async function auditEvents(type: string) {
  const res = await t.http
    .get('/v1/admin/audit')
    .query({ type, limit: 100 })
    .set(bearer(await adminToken(t)));
  expect(res.status).toBe(200);
  return res.body.items as {
    actorId: string | null;
    subjectId: string | null;
    reason: string | null;
    clientIp: string | null;
    details: Record<string, unknown>;
  }[];
}

beforeAll(async () => {
  t = await startTestApp({
    RATE_LIMIT_FAILED_SIGN_INS: '3',
    RATE_LIMIT_PER_MINUTE: '1000',
    RATE_LIMIT_CLIENT_PER_MINUTE: '1000',
    RATE_LIMIT_CEREMONY_STARTS_PER_MINUTE: '1000',
    // Everyday sign-in only prefers user verification, so an unverified session exists to be refused.
    WEBAUTHN_USER_VERIFICATION: 'preferred',
  });
  const clock = t.app.get<Clock>(CLOCK);
  jest.spyOn(clock, 'now').mockImplementation(() => new Date(Date.now() + offsetMs));
});
afterAll(async () => {
  jest.restoreAllMocks();
  await t?.close();
});

describe('discovery', () => {
  it('advertises the device authorization endpoint and grant type', async () => {
    const res = await t.http.get('/.well-known/openid-configuration');
    expect(res.body.device_authorization_endpoint).toMatch(/\/v1\/oauth\/device_authorization$/);
    expect(res.body.grant_types_supported).toContain(DEVICE_GRANT);
  });
});

describe('a person signs a command line in with the device flow', () => {
  it('request → pending → approve with a passkey → one token naming a command line, listed and revocable', async () => {
    const p = await person();
    const res = await deviceAuthorization({ client_id: 'airflow-cli' });
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const started = res.body as Started;
    expect(started.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(started.verification_uri).toBe(`${TEST_ORIGIN}/auth/device`);
    expect(started.verification_uri_complete).toBe(`${TEST_ORIGIN}/auth/device?user_code=${started.user_code}`);
    expect(started).toMatchObject({ expires_in: 600, interval: 5 });
    expect(Buffer.from(started.device_code, 'base64url').length * 8).toBeGreaterThanOrEqual(192);
    // Only the device code's SHA-256 is stored.
    const rows = await t.app
      .get(DataSource)
      .query(`SELECT * FROM device_authorizations WHERE user_code = '${started.user_code.replace('-', '')}'`);
    expect(rows[0].device_code_hash).toBe(createHash('sha256').update(started.device_code).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(started.device_code);

    const pending = await poll(started.device_code);
    expect(pending.status).toBe(400);
    expect(pending.body.error).toBe('authorization_pending');

    // Typed in lower case with a space instead of the dash: the same request.
    const shown = await view(p, started.user_code.toLowerCase().replace('-', ' '));
    expect(shown.status).toBe(200);
    expect(shown.body).toMatchObject({
      userCode: started.user_code,
      clientId: 'airflow-cli',
      kind: 'command_line',
      scope: null,
      requestedFrom: CLI_ADDRESS,
      userAgent: USER_AGENT,
      state: 'pending',
    });
    const approved = await decide(p, started.user_code, 'approve');
    expect(approved.status).toBe(200);
    expect(approved.body.state).toBe('approved');

    advance(5);
    const token = await poll(started.device_code);
    expect(token.status).toBe(200);
    expect(token.headers['cache-control']).toBe('no-store');
    expect(token.body).toMatchObject({ token_type: 'Bearer', expires_in: expect.any(Number) });
    const claims = decodeJwt(token.body.access_token);
    expect(claims).toMatchObject({ sub: p.id, preferred_username: p.username, passkey_id: p.passkeyId });
    expect(claims.amr).toContain('otp');
    expect(claims.amr).not.toContain('mfa');
    const line = claims.cli_sign_in as string;
    expect(typeof line).toBe('string');

    // The command line is the person's, listed like a CLI code's, with who asked and from where.
    const mine = await t.http.get('/v1/me/cli-codes').set(bearer(p.token));
    expect(mine.body).toEqual([
      expect.objectContaining({ id: line, state: 'signed_in', usedFrom: CLI_ADDRESS, createdFrom: '203.0.113.5' }),
    ]);
    expect(mine.body[0].client).toBe(`airflow-cli ${USER_AGENT}`);
    const admin = bearer(await adminToken(t));
    const status = await t.http.get(`/v1/admin/users/${p.id}`).query({ commandLine: line }).set(admin);
    expect(status.body.commandLines.map((c: { id: string }) => c.id)).toEqual([line]);
    expect(status.body.lastLoginMethod).toBe('cli');

    // Recorded: who asked, who approved with which passkey, the token.
    expect((await auditEvents('device.requested')).some((e) => e.details.clientId === 'airflow-cli')).toBe(true);
    const [approval] = (await auditEvents('device.approved')).filter((e) => e.subjectId === p.id);
    expect(approval).toMatchObject({
      actorId: p.id,
      clientIp: '203.0.113.5',
      details: expect.objectContaining({ clientId: 'airflow-cli', passkeyId: p.passkeyId, requestedFrom: CLI_ADDRESS }),
    });
    const [issued] = (await auditEvents('device.token_issued')).filter((e) => e.subjectId === p.id);
    expect(issued).toMatchObject({ clientIp: CLI_ADDRESS, details: expect.objectContaining({ cliSignInId: line }) });
    const tokenIssued = (await auditEvents('token.issued')).find(
      (e) => e.subjectId === p.id && e.details.grant === 'device_code',
    );
    expect(tokenIssued?.details).toMatchObject({ cliSignInId: line });

    // Once only.
    advance(5);
    const again = await poll(started.device_code);
    expect(again.status).toBe(400);
    expect(again.body.error).toBe('invalid_grant');

    // Revoked by the person: Airflow's status read no longer lists it (the command line has ended).
    expect((await t.http.delete(`/v1/me/cli-codes/${line}`).set(bearer(p.token))).body.state).toBe('revoked');
    const after = await t.http.get(`/v1/admin/users/${p.id}`).query({ commandLine: line }).set(admin);
    expect(after.body.commandLines).toEqual([]);
  });

  it("the service CLI's command-lines list shows a device-approved command line with the client that asked", async () => {
    const p = await person();
    const started = await start();
    expect((await decide(p, started.user_code, 'approve')).status).toBe(200);
    advance(5);
    const line = decodeJwt((await poll(started.device_code)).body.access_token).cli_sign_in;
    const listed = await runServiceCli(['command-lines', 'list', p.username, '--json'], {
      env: { USER: 'e2e-operator', ...t.env },
      cwd: tmpdir(),
    });
    expect({ code: listed.code, stderr: listed.stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({
        id: line,
        state: 'signed_in',
        usedFrom: CLI_ADDRESS,
        client: `airflow-cli ${USER_AGENT}`,
      }),
    ]);
  }, 30_000); // a fresh CLI process

  it("a command line's token cannot approve a request: it never passes as a passkey confirmation", async () => {
    const p = await person();
    const first = await start();
    expect((await decide(p, first.user_code, 'approve')).status).toBe(200);
    advance(5);
    const token = (await poll(first.device_code)).body.access_token as string;
    const second = await start();
    const res = await t.http.post(`/v1/me/device-requests/${second.user_code}/approve`).set(bearer(token)).send({});
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('step_up_required');
  });
});

describe('polling', () => {
  it('too soon is slow_down, and the interval then grows by 5 s for that code', async () => {
    const started = await start();
    expect((await poll(started.device_code)).body.error).toBe('authorization_pending');
    const fast = await poll(started.device_code);
    expect(fast.status).toBe(400);
    expect(fast.body.error).toBe('slow_down');
    advance(6); // enough for the first interval (5 s), not the grown one (10 s)
    expect((await poll(started.device_code)).body.error).toBe('slow_down');
    advance(15);
    expect((await poll(started.device_code)).body.error).toBe('authorization_pending');
  });

  it('three polls at once after the approval: exactly one gets a token', async () => {
    const p = await person();
    const started = await start();
    expect((await decide(p, started.user_code, 'approve')).status).toBe(200);
    advance(5);
    const answers = await Promise.all([1, 2, 3].map(() => poll(started.device_code)));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const refused of answers.filter((a) => a.status !== 200))
      expect(['slow_down', 'invalid_grant']).toContain(refused.body.error);
  });

  it('after 10 minutes: expired_token, and the request can no longer be approved', async () => {
    const started = await start();
    advance(601);
    // Signed in now: a sign-in from before the ten minutes is too old for the approval's step-up on the same CLOCK.
    const p = await person();
    const res = await poll(started.device_code);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('expired_token');
    expect((await view(p, started.user_code)).body.state).toBe('expired');
    const late = await decide(p, started.user_code, 'approve');
    expect(late.status).toBe(409);
    expect(late.body.message).toMatch(/expired/);
  });

  it('a denied request answers access_denied, and cannot be approved afterwards', async () => {
    // Denying needs no passkey confirmation: an unverified session may say no.
    const p = await person({ userVerification: false });
    const started = await start();
    const denied = await decide(p, started.user_code, 'deny');
    expect(denied.status).toBe(200);
    expect(denied.body.state).toBe('denied');
    const res = await poll(started.device_code);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('access_denied');
    const verified = await person();
    expect((await decide(verified, started.user_code, 'approve')).status).toBe(409);
    expect((await auditEvents('device.denied')).some((e) => e.subjectId === p.id)).toBe(true);
  });

  it("another client's device code is invalid_grant, and does not disturb the request", async () => {
    const started = await start();
    const other = await createServiceAccount(t);
    const res = await poll(started.device_code, {}, basic(other.clientId, other.clientSecret));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    expect((await poll(started.device_code)).body.error).toBe('authorization_pending');
    const unknown = await poll('A'.repeat(43));
    expect(unknown.body.error).toBe('invalid_grant');
  });

  it('an approval by a person disabled before the exchange gives no token (invalid_grant)', async () => {
    const p = await person();
    const started = await start();
    expect((await decide(p, started.user_code, 'approve')).status).toBe(200);
    await t.app.get(UsersService).setDisabled(TEST_CONTEXT, p.username, true);
    advance(5);
    const res = await poll(started.device_code);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_grant');
    const approvedPerson = await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(await adminToken(t)));
    expect(approvedPerson.body.commandLines).toEqual([]);
  });

  it('answers bad input with a 400 in RFC 6749 form, never a 5xx', async () => {
    const missing = await t.http
      .post('/v1/oauth/token')
      .type('form')
      .send({ grant_type: DEVICE_GRANT, client_id: 'airflow-cli' });
    expect(missing.status).toBe(400);
    expect(missing.body.error).toBe('invalid_request');
    const json = await t.http.post('/v1/oauth/device_authorization').send({ client_id: 'airflow-cli' });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
    const repeated = await t.http
      .post('/v1/oauth/device_authorization')
      .type('form')
      .send('client_id=airflow-cli&client_id=x');
    expect(repeated.status).toBe(400);
  });
});

describe('clients', () => {
  it('an unknown client, a wrong secret, or a secret for the public client: 401 invalid_client', async () => {
    const sa = await createServiceAccount(t);
    for (const [form, headers] of [
      [{ client_id: 'nobody' }, {}],
      [{ client_id: sa.clientId }, {}],
      [{}, basic(sa.clientId, 'wrong')],
      [{ client_id: 'airflow-cli', client_secret: 'x' }, {}],
    ] as [Record<string, string>, Record<string, string>][]) {
      const res = await deviceAuthorization(form, headers);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
    const started = await start();
    expect((await poll(started.device_code, { client_id: 'nobody' })).status).toBe(401);
    const reasons = (await auditEvents('device.requested')).map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(['client_secret_missing', 'bad_secret', 'public_client_secret']));
  });

  it('scopes are refused for now (invalid_scope); an empty scope is none', async () => {
    const res = await deviceAuthorization({ client_id: 'airflow-cli', scope: 'dag:read:id=etl_*' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_scope');
    expect((await deviceAuthorization({ client_id: 'airflow-cli', scope: '' })).status).toBe(200);
  });

  it('a confidential client authenticates to ask and again to exchange; the person sees its name', async () => {
    const p = await person();
    const sa = await createServiceAccount(t, { name: `agent-${Date.now()}` });
    const started = await start({}, basic(sa.clientId, sa.clientSecret));
    const shown = await view(p, started.user_code);
    expect(shown.body).toMatchObject({ clientId: sa.clientId, clientName: sa.name, kind: 'agent' });
    expect((await decide(p, started.user_code, 'approve')).status).toBe(200);
    advance(5);
    const withoutSecret = await poll(started.device_code, { client_id: sa.clientId });
    expect(withoutSecret.status).toBe(401);
    expect(withoutSecret.body.error).toBe('invalid_client');
    const token = await poll(started.device_code, { client_id: sa.clientId, client_secret: sa.clientSecret });
    expect(token.status).toBe(200);
    expect(decodeJwt(token.body.access_token)).toMatchObject({ sub: p.id });
  });
});

describe('approving and denying', () => {
  it('approving needs a fresh user-verified passkey sign-in; a service account may not decide at all', async () => {
    const started = await start();
    const unverified = await person({ userVerification: false });
    const res = await decide(unverified, started.user_code, 'approve');
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('step_up_required');
    const sa = await serviceAccountToken(t);
    const bySa = await t.http
      .post(`/v1/me/device-requests/${started.user_code}/approve`)
      .set(bearer(sa.token))
      .send({});
    expect(bySa.status).toBe(403);
    expect((await view(unverified, started.user_code)).body.state).toBe('pending');
  });

  it('is single use: a second approval is 409', async () => {
    const p = await person();
    const started = await start();
    expect((await decide(p, started.user_code, 'approve')).status).toBe(200);
    const again = await decide(p, started.user_code, 'approve');
    expect(again.status).toBe(409);
    expect(again.body.message).toMatch(/approved/);
    expect((await decide(p, started.user_code, 'deny')).status).toBe(409);
  });

  it('two approvals at once: one wins, the other is 409', async () => {
    const [p, q] = [await person(), await person()];
    const started = await start();
    const answers = await Promise.all([
      decide(p, started.user_code, 'approve'),
      decide(q, started.user_code, 'approve'),
    ]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 409]);
  });

  it('a disabled person cannot approve', async () => {
    const p = await person();
    const started = await start();
    await t.app.get(UsersService).setDisabled(TEST_CONTEXT, p.username, true);
    const res = await decide(p, started.user_code, 'approve');
    expect([401, 403]).toContain(res.status);
    expect(res.body.code).toBe('account_disabled');
  });

  it('an unknown user code is 404, and guessing is limited per person and per address (a wrong code counts)', async () => {
    const p = await person();
    const started = await start();
    for (let i = 0; i < 3; i++) {
      const wrong = await view(p, 'BBBB-BBBB', '203.0.113.90');
      expect(wrong.status).toBe(404);
      expect(wrong.body.message).toBeDefined();
    }
    expect((await view(p, 'not a code at all', '203.0.113.91')).status).toBe(429);
    // The person's bucket is full from any address; the address's for anyone.
    expect((await view(p, started.user_code, '203.0.113.92')).status).toBe(429);
    const q = await person();
    expect((await view(q, started.user_code, '203.0.113.90')).status).toBe(429);
    expect((await view(q, started.user_code, '203.0.113.93')).status).toBe(200);
  });
});
