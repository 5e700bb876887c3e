/**
 * One-time CLI codes: a person signs a command line (airflowctl) in with a code created after a fresh, user-verified
 * passkey confirmation. Shown once, stored hashed, single use, 5 minutes, bound to the person, revocable; the
 * command line it signs in is listed in the person's record (what Airflow re-checks) until revoked.
 */
import { createHash } from 'node:crypto';
import { decodeJwt } from 'jose';
import { DataSource } from 'typeorm';
import { UsersService } from '@app/accounts';
import { CLI_CODE_PREFIX } from '@app/cli-sign-in';
import { TokenIssuerService } from '@app/tokens';
import {
  ADMIN_GROUP,
  adminToken,
  serviceAccountToken,
  signedInPerson,
  SignedInPerson,
  startTestApp,
  TEST_CONTEXT,
  TestApp,
} from '../support/test-app';

let t: TestApp;
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
const person = () => signedInPerson(t, { groups: ['airflow-users'] });

async function createCode(p: SignedInPerson): Promise<{ id: string; code: string; expiresAt: string }> {
  const res = await t.http.post('/v1/me/cli-codes').set(bearer(p.token)).send({});
  expect(res.status).toBe(201);
  return res.body;
}
const redeem = (username: string, code: string, address = '198.51.100.7') =>
  t.http
    .post('/v1/cli/token')
    .set('X-Forwarded-For', address)
    .set('User-Agent', 'airflowctl-test/0.1.5')
    .send({ username, code });

async function auditEvents(type: string, subjectId?: string) {
  const res = await t.http
    .get('/v1/admin/audit')
    .query({ type, limit: 50 })
    .set(bearer(await adminToken(t)));
  expect(res.status).toBe(200);
  return (
    res.body.items as {
      subjectId: string | null;
      reason: string | null;
      details: Record<string, unknown>;
      clientIp: string | null;
    }[]
  ).filter((e) => subjectId === undefined || e.subjectId === subjectId);
}

beforeAll(async () => {
  // Everyday sign-in only prefers user verification, so an unverified session exists to be refused.
  t = await startTestApp({
    RATE_LIMIT_FAILED_SIGN_INS: '3',
    RATE_LIMIT_PER_MINUTE: '1000',
    WEBAUTHN_USER_VERIFICATION: 'preferred',
  });
});
afterAll(async () => {
  await t?.close();
});

describe('creating a code', () => {
  it('needs a fresh, user-verified passkey sign-in: an unverified or stale one is refused with step_up_required', async () => {
    const unverified = await signedInPerson(t, { groups: ['airflow-users'], userVerification: false });
    const res = await t.http.post('/v1/me/cli-codes').set(bearer(unverified.token)).send({});
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('step_up_required');
    const p = await person();
    const user = await t.app.get(UsersService).resolve(p.username);
    const stale = await t.app.get(TokenIssuerService).issueUserToken({
      userId: user.id,
      username: p.username,
      displayName: p.username,
      groups: user.groups,
      passkeyId: p.passkeyId,
      sessionGeneration: user.sessionGeneration,
      authTime: new Date(Date.now() - 3600_000),
      amr: ['hwk', 'user', 'mfa'],
    });
    expect((await t.http.post('/v1/me/cli-codes').set(bearer(stale.access_token)).send({})).body.code).toBe(
      'step_up_required',
    );
  });

  it('is for people only: a service account is refused', async () => {
    const sa = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['admin']);
    expect((await t.http.post('/v1/me/cli-codes').set(bearer(sa.token)).send({})).status).toBe(403);
  });

  it('shows the code (at least 128 random bits) once: the list never contains it, the database holds only its SHA-256', async () => {
    const p = await person();
    const created = await createCode(p);
    expect(created.code.startsWith(CLI_CODE_PREFIX)).toBe(true);
    expect(Buffer.from(created.code.slice(CLI_CODE_PREFIX.length), 'base64url').length * 8).toBeGreaterThanOrEqual(128);
    expect(Date.parse(created.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
    const list = await t.http.get('/v1/me/cli-codes').set(bearer(p.token));
    expect(list.body).toEqual([expect.objectContaining({ id: created.id, state: 'pending' })]);
    expect(JSON.stringify(list.body)).not.toContain(created.code.slice(CLI_CODE_PREFIX.length));
    const rows = await t.app.get(DataSource).query(`SELECT * FROM cli_sign_ins WHERE id = '${created.id}'`);
    expect(rows[0].code_hash).toBe(createHash('sha256').update(created.code).digest('hex'));
    expect(JSON.stringify(rows)).not.toContain(created.code.slice(CLI_CODE_PREFIX.length));
    const [event] = await auditEvents('cli_code.created', p.id);
    expect(JSON.stringify(event)).not.toContain(created.code.slice(CLI_CODE_PREFIX.length));
  });
});

describe('signing a command line in with a code', () => {
  it('gives a token naming the command line, the confirming passkey and amr otp (never mfa), and audits it', async () => {
    const p = await person();
    const { id, code } = await createCode(p);
    const res = await redeem(p.username, code);
    expect(res.status).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const claims = decodeJwt(res.body.access_token);
    expect(claims).toMatchObject({
      sub: p.id,
      preferred_username: p.username,
      passkey_id: p.passkeyId,
      cli_sign_in: id,
    });
    expect(claims.amr).toContain('otp');
    expect(claims.amr).not.toContain('mfa');
    const [used] = await auditEvents('cli_code.used', p.id);
    expect(used).toMatchObject({ details: { cliSignInId: id }, clientIp: '198.51.100.7' });
    const issued = (await auditEvents('token.issued', p.id)).find((e) => e.details.grant === 'cli_code');
    expect(issued?.details).toMatchObject({ cliSignInId: id });
    const status = await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(await adminToken(t)));
    expect(status.body.commandLines).toEqual([
      expect.objectContaining({ id, state: 'signed_in', usedFrom: '198.51.100.7', client: 'airflowctl-test/0.1.5' }),
    ]);
    expect(status.body.commandLines[0].lastUsedAt).toBe(status.body.commandLines[0].usedAt);
    // The person's last sign-in says how: a command line (what `airflow users list` and the access review show).
    expect(status.body).toMatchObject({ lastLoginMethod: 'cli' });
  });

  it("records a command line's last use when Airflow re-checks it in use, and only for its own person", async () => {
    const [p, other] = [await person(), await person()];
    const { id, code } = await createCode(p);
    expect((await redeem(p.username, code)).status).toBe(200);
    await t.app
      .get(DataSource)
      .query(`UPDATE cli_sign_ins SET last_used_at = ${Date.now() - 3600_000} WHERE id = '${id}'`);
    const admin = bearer(await adminToken(t));
    await t.http.get(`/v1/admin/users/${other.id}`).query({ commandLine: id }).set(admin);
    const before = (await t.http.get(`/v1/admin/users/${p.id}`).set(admin)).body.commandLines[0].lastUsedAt;
    expect(Date.now() - Date.parse(before)).toBeGreaterThan(3500_000);
    const after = (await t.http.get(`/v1/admin/users/${p.id}`).query({ commandLine: id }).set(admin)).body
      .commandLines[0].lastUsedAt;
    expect(Date.now() - Date.parse(after)).toBeLessThan(60_000);
  });

  it("a command line's token cannot create another code: it never passes as a passkey confirmation", async () => {
    const p = await person();
    const { code } = await createCode(p);
    const token = (await redeem(p.username, code)).body.access_token as string;
    const res = await t.http.post('/v1/me/cli-codes').set(bearer(token)).send({});
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('step_up_required');
  });

  it('is single use: the same code a second time is refused, audited as cli_code_used', async () => {
    const p = await person();
    const { code } = await createCode(p);
    expect((await redeem(p.username, code)).status).toBe(200);
    const again = await redeem(p.username, code);
    expect(again.status).toBe(401);
    expect(again.body.message).toMatch(/wrong, used, expired or revoked/);
    expect((await auditEvents('cli_code.refused')).map((e) => e.reason)).toContain('cli_code_used');
  });

  it('two command lines racing with one code: exactly one signs in', async () => {
    const p = await person();
    const { code } = await createCode(p);
    const answers = await Promise.all([redeem(p.username, code), redeem(p.username, code), redeem(p.username, code)]);
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401]);
  });

  it("is bound to its person: another person's username with the code is refused, and does not use it up", async () => {
    const [alice, bob] = [await person(), await person()];
    const { code } = await createCode(alice);
    expect((await redeem(bob.username, code, '198.51.100.8')).status).toBe(401);
    expect((await redeem(alice.username, code)).status).toBe(200);
  });

  it('expires after 5 minutes', async () => {
    const p = await person();
    const { id, code } = await createCode(p);
    // Move this code's clock on rather than wait five minutes.
    await t.app
      .get(DataSource)
      .query(
        `UPDATE cli_sign_ins SET expires_at = ${Date.now() - 1000}, created_at = ${Date.now() - 301_000} WHERE id = '${id}'`,
      );
    expect((await redeem(p.username, code)).status).toBe(401);
    expect((await auditEvents('cli_code.refused')).map((e) => e.reason)).toContain('cli_code_expired');
    expect((await t.http.get('/v1/me/cli-codes').set(bearer(p.token))).body).toEqual([]);
  });

  it('is refused once revoked, and a disabled person cannot use theirs', async () => {
    const p = await person();
    const { id, code } = await createCode(p);
    expect((await t.http.delete(`/v1/me/cli-codes/${id}`).set(bearer(p.token))).body.state).toBe('revoked');
    expect((await redeem(p.username, code)).status).toBe(401);
    expect((await auditEvents('cli_code.revoked', p.id)).length).toBe(1);
    const q = await person();
    const second = await createCode(q);
    await t.app.get(UsersService).setDisabled(TEST_CONTEXT, q.username, true);
    expect((await redeem(q.username, second.code)).status).toBe(401);
  });

  it('revoking a signed-in command line takes it out of the record Airflow re-checks; nobody else can revoke it', async () => {
    const [p, other] = [await person(), await person()];
    const { id, code } = await createCode(p);
    expect((await redeem(p.username, code)).status).toBe(200);
    expect((await t.http.delete(`/v1/me/cli-codes/${id}`).set(bearer(other.token))).status).toBe(404);
    expect((await t.http.delete(`/v1/me/cli-codes/${id}`).set(bearer(p.token))).body.state).toBe('revoked');
    const status = await t.http.get(`/v1/admin/users/${p.id}`).set(bearer(await adminToken(t)));
    expect(status.body.commandLines).toEqual([]);
    expect((await auditEvents('cli_session.revoked', p.id)).length).toBe(1);
  });

  it('limits guessing per username and address like sign-ins: after 3 wrong codes even the right one waits there', async () => {
    const p = await person();
    const { code } = await createCode(p);
    for (let i = 0; i < 3; i++)
      expect((await redeem(p.username, `${CLI_CODE_PREFIX}${'A'.repeat(32)}`, '203.0.113.66')).status).toBe(401);
    expect((await redeem(p.username.toUpperCase(), code, '203.0.113.66')).status).toBe(429);
    expect((await redeem(p.username, code, '198.51.100.9')).status).toBe(200);
  });

  it('answers bad input with a 400, not a 5xx', async () => {
    expect((await t.http.post('/v1/cli/token').send({ username: 'x' })).status).toBe(400);
    expect((await t.http.post('/v1/cli/token').send({ username: 'x', code: 'y'.repeat(500) })).status).toBe(400);
  });
});

describe("an admin signing a person's command line out", () => {
  const revokeAs = (token: string, userId: string, line: string) =>
    t.http.delete(`/v1/admin/users/${userId}/command-lines/${line}`).set(bearer(token)).send({});

  async function signedInCommandLine() {
    const p = await person();
    const { id, code } = await createCode(p);
    expect((await redeem(p.username, code)).status).toBe(200);
    return { p, id };
  }
  const commandLinesOf = async (userId: string) =>
    (await t.http.get(`/v1/admin/users/${userId}`).set(bearer(await adminToken(t)))).body.commandLines as {
      id: string;
    }[];

  it('ends it in the record Airflow re-checks, audited with the admin as actor and the person as subject', async () => {
    const { p, id } = await signedInCommandLine();
    const admin = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    const res = await revokeAs(admin.token, p.username, id);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, state: 'revoked', usedFrom: '198.51.100.7' });
    expect(await commandLinesOf(p.id)).toEqual([]);
    const events = await t.http
      .get('/v1/admin/audit')
      .query({ type: 'cli_session.revoked', subject: p.id })
      .set(bearer(await adminToken(t)));
    expect(events.body.items).toEqual([
      expect.objectContaining({ actorType: 'user', actorId: admin.id, subjectId: p.id, details: { cliSignInId: id } }),
    ]);
    // Once is enough: a second revoke finds nothing left to end.
    expect((await revokeAs(admin.token, p.id, id)).status).toBe(404);
  });

  it("is refused under another person's id (404), and leaves the command line signed in", async () => {
    const { p, id } = await signedInCommandLine();
    const other = await person();
    const admin = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    const res = await revokeAs(admin.token, other.id, id);
    expect(res.status).toBe(404);
    expect((await revokeAs(admin.token, p.id, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await revokeAs(admin.token, 'nobody-here', id)).status).toBe(404);
    expect((await commandLinesOf(p.id)).map((line) => line.id)).toEqual([id]);
  });

  it('is refused to a person outside the admin groups, to a stale admin sign-in and to a sessions:read credential', async () => {
    const { p, id } = await signedInCommandLine();
    const notAdmin = await person();
    expect((await revokeAs(notAdmin.token, p.id, id)).status).toBe(403);
    // The person themselves may sign it out on their page, not through the admin API.
    expect((await revokeAs(p.token, p.id, id)).status).toBe(403);
    const admin = await signedInPerson(t, { groups: [ADMIN_GROUP] });
    const user = await t.app.get(UsersService).resolve(admin.username);
    const stale = await t.app.get(TokenIssuerService).issueUserToken({
      userId: user.id,
      username: admin.username,
      displayName: admin.username,
      groups: user.groups,
      passkeyId: admin.passkeyId,
      sessionGeneration: user.sessionGeneration,
      authTime: new Date(Date.now() - 3600_000),
      amr: ['hwk', 'user', 'mfa'],
    });
    const staleAnswer = await revokeAs(stale.access_token, p.id, id);
    expect(staleAnswer.status).toBe(401);
    expect(staleAnswer.body.code).toBe('step_up_required');
    const airflow = await serviceAccountToken(t, [ADMIN_GROUP], undefined, ['sessions:read']);
    const readOnly = await revokeAs(airflow.token, p.id, id);
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.code).toBe('insufficient_scope');
    expect((await commandLinesOf(p.id)).map((line) => line.id)).toEqual([id]);
  });

  it('an admin service account (admin scope and group) may sign one out, as `airflow webauthn` does', async () => {
    const { p, id } = await signedInCommandLine();
    const res = await revokeAs(await adminToken(t), p.id, id);
    expect(res.status).toBe(200);
    expect(await commandLinesOf(p.id)).toEqual([]);
  });
});
