/**
 * GET /v1/admin/reports/access-review: who has access and how they use it, read in one transaction, with the audit
 * chain's verified head signed by the service. Runs on SQLite, and on PostgreSQL with E2E_DATABASE_URL.
 */
import { compactVerify, importJWK, JWK } from 'jose';
import { DataSource } from 'typeorm';
import { KeyStoreService } from '@app/tokens';
import { CLI_CONTEXT } from '@app/audit';
import { SoftAuthenticator } from '../support/soft-authenticator';
import {
  ADMIN_GROUP,
  enrollUser,
  requestClientToken,
  serviceAccountToken,
  signedInPerson,
  SignedInPerson,
  signIn,
  startTestApp,
  TestApp,
} from '../support/test-app';

jest.setTimeout(180_000);

type Person = Record<string, unknown> & { username: string; passkeys: Record<string, unknown>[] };
type Review = Record<string, unknown> & {
  people: Person[];
  serviceAccounts: Record<string, unknown>[];
  auditChain: Record<string, unknown>;
};

const ICLOUD = 'fbfc3007-154e-4ecc-8c0b-6e020557d7bd';
const DAY_MS = 86_400_000;

let t: TestApp;
let admin: SignedInPerson;
const bearer = () => ({ Authorization: `Bearer ${admin.token}` });
/** A statement with `?` placeholders, on either database. */
function sql(text: string, params: unknown[] = []): Promise<Record<string, string>[]> {
  const source = t.app.get(DataSource);
  let index = 0;
  return source.query(source.options.type === 'postgres' ? text.replace(/\?/g, () => `$${++index}`) : text, params);
}

async function review(query: Record<string, string | number> = {}): Promise<Review> {
  const res = await t.http.get('/v1/admin/reports/access-review').query(query).set(bearer());
  expect(res.status).toBe(200);
  return res.body as Review;
}
const person = (r: Review, username: string) => r.people.find((p) => p.username === username)!;

beforeAll(async () => {
  t = await startTestApp();
  admin = await signedInPerson(t, { groups: [ADMIN_GROUP] });
});
afterAll(async () => {
  await t?.close();
});

describe('people', () => {
  it('lists each person with groups, status, last sign-in (when and how), passkeys by model and binding, and no compliance claim', async () => {
    const synced = new SoftAuthenticator({ aaguid: ICLOUD, backupEligible: true, backupState: true });
    await enrollUser(t, synced, { username: 'sam', displayName: 'Sam Synced', groups: ['airflow-users', 'finance'] });
    await signIn(t, synced, { username: 'sam' });
    await enrollUser(t, new SoftAuthenticator(), { username: 'nora', groups: ['airflow-viewers'] });

    const r = await review();
    const sam = person(r, 'sam');
    expect(sam).toMatchObject({
      displayName: 'Sam Synced',
      groups: ['airflow-users', 'finance'],
      status: 'active',
      identityProvider: null,
      lastSignInMethod: 'passkey',
      dormant: false,
      disabledAt: null,
      sessionsEnded: null,
    });
    expect(Date.parse(sam.lastSignInAt as string)).toBeGreaterThan(Date.now() - 60_000);
    expect(sam.passkeys).toEqual([
      expect.objectContaining({
        model: 'Apple Passwords',
        aaguid: ICLOUD,
        deviceBound: false,
        backedUp: true,
        status: 'active',
      }),
    ]);
    expect(sam.compliance).toEqual({ status: 'not_evaluated', reason: 'no authenticator policy is configured' });
    expect(sam.passkeys[0]!.compliance).toEqual(sam.compliance);
    // Enrolled, never signed in: no sign-in to report, and not dormant while newly created.
    expect(person(r, 'nora')).toMatchObject({ lastSignInAt: null, lastSignInMethod: null, dormant: false });
    expect(person(r, 'nora').passkeys).toEqual([
      expect.objectContaining({ model: null, deviceBound: true, backedUp: false }),
    ]);
    // The people section alone (what `airflow users list` shows) is the same view, without the rest of the review.
    const people = (await t.http.get('/v1/admin/reports/people').set(bearer())).body as Person[];
    expect(people.find((p) => p.username === 'sam')).toEqual(sam);
    // The admin API's user list says how too.
    const users = (await t.http.get('/v1/admin/users').set(bearer())).body as Record<string, unknown>[];
    expect(users.find((u) => u.username === 'sam')).toMatchObject({ lastLoginMethod: 'passkey' });
  });

  it('calls an enabled person dormant after dormantDays without a sign-in, and honours dormantDays', async () => {
    await enrollUser(t, new SoftAuthenticator(), { username: 'olga', groups: ['airflow-ops'] });
    const longAgo = Date.now() - 100 * DAY_MS;
    await sql('UPDATE users SET last_login_at = ?, created_at = ? WHERE username = ?', [longAgo, longAgo, 'olga']);
    expect(person(await review(), 'olga').dormant).toBe(true);
    expect(person(await review({ dormantDays: 120 }), 'olga').dormant).toBe(false);
  });

  it('shows a disabled person with the time of disabling, no token issued since, and their token refused', async () => {
    const dave = await signedInPerson(t, { groups: ['airflow-users'] });
    const disabled = await t.http.post(`/v1/admin/users/${dave.username}/disable`).set(bearer());
    expect(disabled.status).toBe(200);
    const entry = person(await review(), dave.username);
    expect(entry).toMatchObject({ status: 'disabled', dormant: false, sessionsEnded: true });
    expect(entry.disabledAt).toEqual(expect.any(String));
    expect((await t.http.get('/v1/me').set({ Authorization: `Bearer ${dave.token}` })).status).toBe(401);
  });
});

describe('service accounts, keys and failures', () => {
  it('lists service accounts with scopes and last use, counts refused sign-ins by reason, and lists key rotations', async () => {
    const robot = await serviceAccountToken(t, ['airflow-ops'], 'nightly-loader', ['sessions:read']);
    await requestClientToken(t, robot.clientId, 'wrong-secret').expect(401);
    // The second refusal in the same minute is only counted (audit bounds): the report still counts it.
    await requestClientToken(t, robot.clientId, 'wrong-again').expect(401);
    await t.app.get(KeyStoreService).rotate(CLI_CONTEXT);

    const r = await review();
    const account = r.serviceAccounts.find((a) => a.name === 'nightly-loader')!;
    expect(account).toMatchObject({
      clientId: robot.clientId,
      groups: ['airflow-ops'],
      scopes: ['sessions:read'],
      status: 'active',
      dormant: false,
    });
    expect(Date.parse(account.lastUsedAt as string)).toBeGreaterThan(Date.now() - 60_000);
    const failures = r.failedSignIns as {
      attempts: number;
      byReason: { kind: string; reason: string; attempts: number }[];
    };
    const refused = failures.byReason.filter((row) => row.kind === 'client_credentials');
    expect(refused.reduce((sum, row) => sum + row.attempts, 0)).toBe(2);
    expect(failures.attempts).toBeGreaterThanOrEqual(2);
    expect(r.keyRotations).toEqual([
      expect.objectContaining({
        by: `cli ${CLI_CONTEXT.actorId}`,
        activeKid: expect.any(String),
        retiredKid: expect.any(String),
      }),
    ]);
    expect(r.delegations).toEqual({ note: expect.stringContaining('no delegations'), items: [] });
    const days = r.signInsPerDay as { day: string; count: number }[];
    expect(days).toHaveLength(91); // 90 days back from today's time of day touch 91 calendar days
    expect(days.at(-1)).toEqual({ day: new Date().toISOString().slice(0, 10), count: expect.any(Number) });
    expect(days.at(-1)!.count).toBeGreaterThanOrEqual(2);
  });

  it('leaves events before since out of the period', async () => {
    const [rotation] = (await review()).keyRotations as { at: string }[];
    const r = await review({ since: new Date(Date.parse(rotation!.at) + 1).toISOString() });
    expect(r.keyRotations).toEqual([]);
    expect((r.signInsPerDay as unknown[]).length).toBe(1);
  });
});

describe('audit chain head', () => {
  it('is the verified head, signed by a key the JWKS publishes, for this purpose only, and the read itself is audited', async () => {
    const r = await review();
    const head = r.auditChain as {
      intact: boolean;
      seq: number;
      hash: string;
      events: number;
      signature: string;
      signedBy: string;
    };
    expect(head).toMatchObject({ intact: true, problem: null });
    const jwks = (await t.http.get('/.well-known/jwks.json')).body as { keys: JWK[] };
    const published = jwks.keys.find((key) => key.kid === head.signedBy);
    expect(published).toBeDefined();
    const { payload, protectedHeader } = await compactVerify(
      head.signature,
      await importJWK(published!, protectedHeader0(head.signature).alg),
    );
    expect(protectedHeader.kid).toBe(head.signedBy);
    expect(JSON.parse(Buffer.from(payload).toString())).toEqual({
      purpose: 'access-review.audit-head',
      seq: head.seq,
      hash: head.hash,
      events: head.events,
      verifiedAt: r.generatedAt,
    });
    const [stored] = await sql('SELECT hash FROM audit_events WHERE seq = ?', [head.seq]);
    expect(stored!.hash).toBe(head.hash);

    const reads = await t.http.get('/v1/admin/audit').query({ type: 'report.access_review' }).set(bearer());
    expect(reads.body.items[0]).toMatchObject({
      actorId: admin.id,
      outcome: 'success',
      details: expect.objectContaining({ dormantDays: 90 }),
    });
  });

  it('is reported broken and left unsigned after an event was edited behind the service', async () => {
    const [victim] = await sql('SELECT id, actor_id FROM audit_events WHERE seq = ?', [2]);
    await sql('UPDATE audit_events SET actor_id = ? WHERE id = ?', ['mallory', victim!.id]);
    try {
      const head = (await review()).auditChain;
      expect(head).toMatchObject({ intact: false, signature: null, signedBy: null, seq: null });
      expect(head.problem).toContain(victim!.id);
    } finally {
      await sql('UPDATE audit_events SET actor_id = ? WHERE id = ?', [victim!.actor_id, victim!.id]);
    }
  });
});

describe('bad requests', () => {
  it.each([
    [{ since: 'yesterday' }, 'since must be an ISO 8601 date or date-time'],
    [{ since: new Date(Date.now() + DAY_MS).toISOString() }, 'since must be in the past'],
    [{ since: '1990-01-01' }, 'since must be at most 3660 days ago'],
    [{ dormantDays: 0 }, 'dormantDays must not be less than 1'],
    [{ dormantDays: 'many' }, 'dormantDays must be a whole number'],
  ])('refuses %j with a 400 naming the problem', async (query, message) => {
    const res = await t.http.get('/v1/admin/reports/access-review').query(query).set(bearer());
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.body.message)).toContain(message);
  });

  it('refuses a person outside the admin groups', async () => {
    const viewer = await signedInPerson(t, { groups: ['airflow-viewers'] });
    expect(
      (await t.http.get('/v1/admin/reports/access-review').set({ Authorization: `Bearer ${viewer.token}` })).status,
    ).toBe(403);
  });
});

function protectedHeader0(jws: string): { alg: string } {
  return JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { alg: string };
}
