/**
 * The audit trail is bounded: unauthenticated failures from one address are aggregated per reason and window, every
 * success is still recorded one by one, and events past AUDIT_RETENTION_DAYS are pruned by a job that records what
 * it pruned, leaving a chain that still verifies. SQLite, and PostgreSQL with E2E_DATABASE_URL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AGGREGATION_WINDOW_MS, AuditChainService, AuditService, CheckpointKeys } from '@app/audit';
import { JobLeases, UnitOfWork } from '@app/persistence';
import { SoftAuthenticator } from '../support/soft-authenticator';
import { runServiceCli } from '../support/service-cli';
import {
  assertion,
  clientToken,
  createServiceAccount,
  serviceAccountToken,
  startTestApp,
  TEST_ORIGIN,
  TestApp,
} from '../support/test-app';

jest.setTimeout(180_000);

let t: TestApp;
let cwd: string;

beforeEach(async () => {
  t = await startTestApp();
  cwd = mkdtempSync(join(tmpdir(), 'audit-bounds-'));
});
afterEach(async () => {
  await t?.close();
  rmSync(cwd, { recursive: true, force: true });
});

const sql = (text: string) => t.app.get(DataSource).query(text);
const countRows = async (where = '1 = 1') =>
  Number(((await sql(`SELECT COUNT(*) AS n FROM audit_events WHERE ${where}`)) as Array<{ n: string | number }>)[0]!.n);

/** An authenticator holding a passkey this service never enrolled. */
function strayAuthenticator(): SoftAuthenticator {
  const authenticator = new SoftAuthenticator();
  authenticator.createCredential(
    {
      rp: { id: 'localhost', name: 'elsewhere' },
      user: { id: 'c3RyYXk', name: 'stray', displayName: 'stray' },
      challenge: 'AAAAAAAAAAAAAAAAAAAAAA',
      pubKeyCredParams: [{ type: 'public-key', alg: -7 }],
    },
    { origin: TEST_ORIGIN },
  );
  return authenticator;
}

/** Runs `n` calls of `work`, `width` at a time. */
async function flood(n: number, width: number, work: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < n) await work(next++);
    }),
  );
}

describe('unauthenticated failures are aggregated', () => {
  it('1,000 junk sign-ins from one address add at most 50 rows, and their count is kept', async () => {
    // A signed assertion from a passkey nobody enrolled, replayed: every request is a refused sign-in.
    const junk = await assertion(t, strayAuthenticator());
    const before = await countRows();
    const statuses = new Set<number>();
    await flood(1000, 8, async () =>
      statuses.add((await t.http.post('/v1/authentication/verify').send({ response: junk })).status),
    );
    expect([...statuses].every((s) => s >= 400 && s < 500)).toBe(true);
    expect((await countRows()) - before).toBeLessThanOrEqual(50);

    // When the windows end, their summaries carry the count: every refusal is accounted for.
    await t.app.get(AuditService).flushEndedWindows(Date.now() + AGGREGATION_WINDOW_MS + 1);
    const rows = (await sql(`SELECT details FROM audit_events WHERE type = 'login' AND outcome = 'failure'`)) as Array<{
      details: string;
    }>;
    const total = rows.reduce((sum, r) => sum + ((JSON.parse(r.details) as { count?: number }).count ?? 1), 0);
    expect(total).toBe(1000);
    expect((await countRows()) - before).toBeLessThanOrEqual(50);
    expect(await t.app.get(AuditChainService).verify(t.app.get(CheckpointKeys))).toMatchObject({ ok: true });
  });

  it('records other successes one by one, however many', async () => {
    for (let i = 0; i < 20; i++) await createServiceAccount(t);
    expect(await countRows(`type = 'service_account.created' AND outcome = 'success'`)).toBe(20);
  });

  it('counts failures of different addresses apart', async () => {
    const junk = await assertion(t, strayAuthenticator());
    for (const address of ['10.0.0.1', '10.0.0.2']) {
      for (let i = 0; i < 5; i++)
        await t.app
          .get(AuditService)
          .record(
            { actorType: 'anonymous', clientIp: address },
            { type: 'login', outcome: 'failure', reason: 'unknown_credential', details: { credentialId: junk.id } },
          );
    }
    await t.app.get(AuditService).flushEndedWindows(Date.now() + AGGREGATION_WINDOW_MS + 1);
    const rows = (await sql(
      `SELECT client_ip, details FROM audit_events WHERE type = 'login' AND client_ip LIKE '10.0.0.%' ORDER BY seq`,
    )) as Array<{ client_ip: string; details: string }>;
    expect(rows.map((r) => [r.client_ip, JSON.parse(r.details).count ?? 1])).toEqual([
      ['10.0.0.1', 1],
      ['10.0.0.2', 1],
      ['10.0.0.1', 4],
      ['10.0.0.2', 4],
    ]);
  });
});

/** The total an event type accounts for once the windows have ended: full rows count 1, summaries their count. */
async function accountedFor(where: string): Promise<{ rows: number; total: number }> {
  await t.app.get(AuditService).flushEndedWindows(Date.now() + AGGREGATION_WINDOW_MS + 1);
  const rows = (await sql(`SELECT details FROM audit_events WHERE ${where}`)) as Array<{ details: string }>;
  return {
    rows: rows.length,
    total: rows.reduce((sum, r) => sum + ((JSON.parse(r.details) as { count?: number }).count ?? 1), 0),
  };
}

describe('one credential cannot flood the trail', () => {
  it('1,000 refused admin calls of a low-privileged credential on two routes add at most 50 rows, each naming it and its route', async () => {
    const robot = await serviceAccountToken(t, ['ci']);
    const before = await countRows();
    const routes = ['/v1/admin/users', '/v1/admin/audit'];
    const statuses = new Set<number>();
    await flood(1000, 8, async (i) =>
      statuses.add((await t.http.get(routes[i % 2]!).set('Authorization', `Bearer ${robot.token}`)).status),
    );
    expect([...statuses]).toEqual([403]);
    // Refusals are recorded as their responses finish: wait until all 1,000 are counted in a window or a row.
    const counted = async () =>
      Number(
        (
          (await sql(
            `SELECT COALESCE(SUM(hits), 0) AS n FROM audit_failure_windows WHERE bucket LIKE 'actor:%'`,
          )) as Array<{ n: string | number }>
        )[0]!.n,
      ) + (await countRows(`type = 'admin.denied'`));
    for (const deadline = Date.now() + 30_000; (await counted()) < 1000 && Date.now() < deadline;)
      await new Promise((r) => setTimeout(r, 100));
    expect((await countRows()) - before).toBeLessThanOrEqual(50);

    const { rows, total } = await accountedFor(`type = 'admin.denied' AND actor_id = '${robot.id}'`);
    expect({ rows, total }).toEqual({ rows: 4, total: 1000 });
    const summaries = (await sql(
      `SELECT actor_type, reason, details FROM audit_events WHERE type = 'admin.denied' AND details LIKE '%aggregated%'`,
    )) as Array<{ actor_type: string; reason: string; details: string }>;
    expect(
      summaries.map((r) => [r.actor_type, r.reason, JSON.parse(r.details).route, JSON.parse(r.details).count]).sort(),
    ).toEqual([
      ['service_account', 'forbidden', 'GET /v1/admin/audit', 499],
      ['service_account', 'forbidden', 'GET /v1/admin/users', 499],
    ]);
    expect((await countRows()) - before).toBeLessThanOrEqual(50);
    expect(await t.app.get(AuditChainService).verify(t.app.get(CheckpointKeys))).toMatchObject({ ok: true });
  });

  it('1,000 grants of one client add at most 50 rows: the first in full, then the count, naming the client', async () => {
    const account = await createServiceAccount(t);
    const before = await countRows();
    await flood(1000, 8, () => clientToken(t, account.clientId, account.clientSecret));
    expect((await countRows()) - before).toBeLessThanOrEqual(50);
    const where = `type = 'token.issued' AND outcome = 'success' AND subject_id = '${account.id}'`;
    const [first] = (await sql(`SELECT actor_id, details FROM audit_events WHERE ${where} ORDER BY seq`)) as Array<{
      actor_id: string;
      details: string;
    }>;
    expect(first!.actor_id).toBe(account.id);
    expect(JSON.parse(first!.details)).toMatchObject({
      grant: 'client_credentials',
      clientId: account.clientId,
      expiresIn: expect.any(Number),
    });
    expect(await accountedFor(where)).toEqual({ rows: 2, total: 1000 });
    // Another client's grants are counted apart.
    const other = await createServiceAccount(t);
    await clientToken(t, other.clientId, other.clientSecret);
    expect(await countRows(`type = 'token.issued' AND subject_id = '${other.id}'`)).toBe(1);
  });
});

describe('retention', () => {
  const DAY = 24 * 3600 * 1000;

  it('keeps events within AUDIT_RETENTION_DAYS', async () => {
    const before = await countRows();
    expect(await t.app.get(AuditService).prune(400, t.app.get(CheckpointKeys))).toBeNull();
    expect(await countRows()).toBe(before);
  });

  it('prunes older events, records what it pruned, and the rest of the chain verifies (online and offline)', async () => {
    const audit = t.app.get(AuditService);
    await createServiceAccount(t);
    const old = await countRows();
    // A year and more later, everything written so far is past a 400-day retention.
    const later = Date.now() + 401 * DAY;
    const pruned = await audit.prune(400, t.app.get(CheckpointKeys), later);
    expect(pruned).toMatchObject({
      throughSeq: old,
      deleted: old,
      retentionDays: 400,
      throughHash: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const [event] = (await sql(
      `SELECT type, actor_type, details FROM audit_events WHERE type = 'audit.pruned'`,
    )) as Array<{ type: string; actor_type: string; details: string }>;
    expect(event).toMatchObject({ actor_type: 'system' });
    expect(JSON.parse(event!.details)).toMatchObject({ throughSeq: old, deleted: old });
    await createServiceAccount(t);

    const online = await runServiceCli(['audit', 'verify', '--json'], { env: t.env, cwd });
    expect(online.code).toBe(0);
    expect(JSON.parse(online.stdout)).toMatchObject({ ok: true, first: old + 1 });
    const exported = await runServiceCli(['audit', 'export'], { env: t.env, cwd });
    writeFileSync(join(cwd, 'export.ndjson'), exported.stdout);
    expect(
      (
        await runServiceCli(['audit', 'verify', '--file', join(cwd, 'export.ndjson')], {
          env: { PATH: process.env.PATH },
          cwd,
        })
      ).code,
    ).toBe(0);

    // Deleting more than the job pruned is still caught: the checkpoint says where the chain must start.
    const [first] = (await sql(`SELECT id FROM audit_events WHERE seq = ${old + 1}`)) as Array<{ id: string }>;
    await sql(`DELETE FROM audit_events WHERE seq = ${old + 1}`);
    const broken = await runServiceCli(['audit', 'verify'], { env: t.env, cwd });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain('is missing');
    expect(first).toBeDefined();
  });
});

describe('job leases (what makes the pruning and the other scheduled jobs run once across instances)', () => {
  it('of many claims at once, one wins; nobody wins again until the interval has passed', async () => {
    const uow = t.app.get(UnitOfWork);
    const instances = Array.from({ length: 5 }, (_, i) => new JobLeases(uow, `instance-${i}`));
    const now = Date.now();
    const claims = await Promise.all(instances.map((lease) => lease.claim('test.job', 60_000, now)));
    expect(claims.filter(Boolean)).toHaveLength(1);
    expect(await instances[1]!.claim('test.job', 60_000, now + 30_000)).toBe(false);
    expect(await instances[2]!.claim('test.job', 60_000, now + 60_000)).toBe(true);
    const [row] = (await sql(`SELECT holder, runs FROM job_leases WHERE name = 'test.job'`)) as Array<{
      holder: string;
      runs: number | string;
    }>;
    expect({ holder: row!.holder, runs: Number(row!.runs) }).toEqual({ holder: 'instance-2', runs: 2 });
  });
});
