/**
 * The audit trail is evidence: every event is hash-chained to the one before, and `audit verify` (on the database,
 * or offline on an export) fails naming the first bad event when a row was edited, deleted or inserted behind the
 * service's back. Runs on SQLite, and on PostgreSQL with E2E_DATABASE_URL.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { chainHash } from '@app/audit';
import { runServiceCli } from '../support/service-cli';
import {
  adminToken,
  clientToken,
  createServiceAccount,
  requestClientToken,
  serviceAccountToken,
  startTestApp,
  TestApp,
} from '../support/test-app';

jest.setTimeout(120_000);

let t: TestApp;
let cwd: string;

beforeEach(async () => {
  t = await startTestApp();
  cwd = mkdtempSync(join(tmpdir(), 'audit-chain-'));
  // A trail with some history: accounts created, tokens issued, a refused secret.
  for (let i = 0; i < 3; i++) {
    const account = await createServiceAccount(t);
    await clientToken(t, account.clientId, account.clientSecret);
    await requestClientToken(t, account.clientId, 'wrong-secret');
  }
});
afterEach(async () => {
  await t?.close();
  rmSync(cwd, { recursive: true, force: true });
});

const sql = (text: string) => t.app.get(DataSource).query(text);
const verify = (...args: string[]) => runServiceCli(['audit', 'verify', ...args], { env: t.env, cwd });

async function eventAt(seq: number): Promise<{ id: string; hash: string; seq: number }> {
  const [row] = (await sql(`SELECT id, hash, seq FROM audit_events WHERE seq = ${seq}`)) as Array<{
    id: string;
    hash: string;
    seq: string | number;
  }>;
  if (!row) throw new Error(`no event at ${seq}`);
  return { id: row.id, hash: row.hash, seq: Number(row.seq) };
}

async function headSeq(): Promise<number> {
  const [row] = (await sql('SELECT seq FROM audit_chain_head WHERE id = 1')) as Array<{ seq: string | number }>;
  return Number(row!.seq);
}

describe('audit verify on the database', () => {
  it('exits 0 on the trail the service wrote, naming its head', async () => {
    const result = await verify('--json');
    expect(result.code).toBe(0);
    const verdict = JSON.parse(result.stdout);
    expect(verdict).toMatchObject({
      ok: true,
      first: 1,
      last: { seq: await headSeq(), hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(verdict.events).toBeGreaterThanOrEqual(9);
  });

  it('stays intact under concurrent appends (positions are gap-free and each follows its predecessor)', async () => {
    const account = await createServiceAccount(t);
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        i % 2
          ? clientToken(t, account.clientId, account.clientSecret)
          : requestClientToken(t, account.clientId, 'nope'),
      ),
    );
    expect((await verify()).code).toBe(0);
  });

  it('fails naming the event whose fields were edited', async () => {
    const victim = await eventAt(4);
    await sql(`UPDATE audit_events SET actor_id = 'mallory' WHERE id = '${victim.id}'`);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`event ${victim.id} at position 4 was altered`);
  });

  it('fails naming the position of a deleted event and the event found in its place', async () => {
    const deleted = await eventAt(5);
    const next = await eventAt(6);
    await sql(`DELETE FROM audit_events WHERE id = '${deleted.id}'`);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`event ${next.id} at position 5 is missing`);
  });

  it('fails when the newest events were deleted (the head remembers where the chain ended)', async () => {
    const head = await headSeq();
    await sql(`DELETE FROM audit_events WHERE seq >= ${head - 1}`);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`at position ${head - 1} is missing`);
  });

  it('fails naming a row inserted without a place in the chain', async () => {
    await sql(
      `INSERT INTO audit_events (id, occurred_at, type, outcome, reason, actor_type, actor_id, details) VALUES ('00000000-0000-4000-8000-000000000001', ${Date.now()}, 'login', 'success', NULL, 'user', 'mallory', '{}')`,
    );
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'event 00000000-0000-4000-8000-000000000001 at position ? has no place in the chain',
    );
  });

  it('fails naming a row appended with a correctly computed hash, as the service did not write it', async () => {
    const head = await eventAt(await headSeq());
    const forged = {
      seq: head.seq + 1,
      prevHash: head.hash,
      id: '00000000-0000-4000-8000-000000000002',
      occurredAt: Date.now(),
      type: 'login',
      outcome: 'success',
      reason: null,
      actorType: 'user',
      actorId: 'mallory',
      subjectType: null,
      subjectId: null,
      clientIp: null,
      userAgent: null,
      details: {},
    };
    await sql(
      `INSERT INTO audit_events (id, occurred_at, type, outcome, actor_type, actor_id, details, seq, prev_hash, hash) VALUES ('${forged.id}', ${forged.occurredAt}, 'login', 'success', 'user', 'mallory', '{}', ${forged.seq}, '${forged.prevHash}', '${chainHash(forged)}')`,
    );
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`event ${forged.id} at position ${forged.seq} was not written by the service`);
  });

  it('fails naming an event re-chained after its predecessor was edited', async () => {
    // Editing event 3 and recomputing its own hash still breaks event 4, which was chained to the original.
    const victim = await eventAt(3);
    const [row] = (await sql(`SELECT * FROM audit_events WHERE seq = 3`)) as Array<
      Record<string, string | number | null>
    >;
    const link = {
      seq: 3,
      prevHash: String(row!.prev_hash),
      id: victim.id,
      occurredAt: Number(row!.occurred_at),
      type: String(row!.type),
      outcome: String(row!.outcome),
      reason: row!.reason as string | null,
      actorType: String(row!.actor_type),
      actorId: 'mallory',
      subjectType: row!.subject_type as string | null,
      subjectId: row!.subject_id as string | null,
      clientIp: row!.client_ip as string | null,
      userAgent: row!.user_agent as string | null,
      details: JSON.parse(String(row!.details)),
    };
    await sql(`UPDATE audit_events SET actor_id = 'mallory', hash = '${chainHash(link)}' WHERE id = '${victim.id}'`);
    const next = await eventAt(4);
    const result = await verify();
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`event ${next.id} at position 4 does not follow its predecessor`);
  });
});

describe('the export carries the chain, verifiable offline', () => {
  async function exportFile(): Promise<string> {
    const exported = await runServiceCli(['audit', 'export'], { env: t.env, cwd });
    expect(exported.code).toBe(0);
    const file = join(cwd, 'audit.ndjson');
    writeFileSync(file, exported.stdout);
    return file;
  }

  it('verifies an unfiltered export without the database', async () => {
    const file = await exportFile();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ seq: 1, prevHash: '0'.repeat(64), hash: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const offline = await runServiceCli(['audit', 'verify', '--file', file], { env: { PATH: process.env.PATH }, cwd });
    expect(offline).toMatchObject({
      code: 0,
      stdout: expect.stringContaining(`audit trail intact: ${lines.length} events`),
    });
  });

  it('fails naming the event edited in the exported file', async () => {
    const file = await exportFile();
    const lines = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    lines[2].details = { ...lines[2].details, note: 'added later' };
    writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    const offline = await runServiceCli(['audit', 'verify', '--file', file], { env: { PATH: process.env.PATH }, cwd });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain(`event ${lines[2].id} at position 3 was altered`);
  });

  it('fails on an export with an event cut out of it', async () => {
    const file = await exportFile();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const third = JSON.parse(lines[3]!);
    writeFileSync(file, `${[...lines.slice(0, 2), ...lines.slice(3)].join('\n')}\n`);
    const offline = await runServiceCli(['audit', 'verify', '--file', file], { env: { PATH: process.env.PATH }, cwd });
    expect(offline.code).toBe(1);
    expect(offline.stderr).toContain(`event ${third.id} at position 3 is missing`);
  });
});

describe('reading the trail is audited', () => {
  it('records who read a page of the audit API', async () => {
    const token = await adminToken(t);
    const res = await t.http.get('/v1/admin/audit?limit=5').set('Authorization', `Bearer ${token}`);
    expect(res.status).toBe(200);
    const [row] = (await sql(`SELECT actor_type, details FROM audit_events WHERE type = 'audit.read'`)) as Array<{
      actor_type: string;
      details: string;
    }>;
    expect(row).toMatchObject({ actor_type: 'service_account' });
    expect(JSON.parse(row!.details)).toMatchObject({ events: 5 });
    expect((await verify()).code).toBe(0);
  });
});

describe('refused admin API calls are audited', () => {
  /** The denial is recorded as the response finishes: wait for it (generously: the machine may be busy). */
  async function deniedEvents(
    expected: number,
  ): Promise<Array<{ actor_type: string; actor_id: string | null; reason: string; details: string }>> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const rows = (await sql(
        `SELECT actor_type, actor_id, reason, details FROM audit_events WHERE type = 'admin.denied' ORDER BY seq`,
      )) as Array<{ actor_type: string; actor_id: string | null; reason: string; details: string }>;
      if (rows.length >= expected || Date.now() > deadline) return rows;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('records a 401 without a token and a 403 naming the principal without the right', async () => {
    expect((await t.http.get('/v1/admin/users')).status).toBe(401);
    const outsider = await serviceAccountToken(t, ['ci']);
    expect((await t.http.get('/v1/admin/audit').set('Authorization', `Bearer ${outsider.token}`)).status).toBe(403);
    const rows = await deniedEvents(2);
    expect(rows.map((r) => [r.actor_type, r.actor_id, r.reason, JSON.parse(r.details).path])).toEqual([
      ['anonymous', null, 'unauthenticated', '/v1/admin/users'],
      ['service_account', outsider.id, 'forbidden', '/v1/admin/audit'],
    ]);
    expect((await verify()).code).toBe(0);
  });
});
