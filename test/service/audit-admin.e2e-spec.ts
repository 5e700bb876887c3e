/**
 * The audit trail as administrators read it through the admin API: names next to ids (looked up when read, never
 * stored in the hashed rows), filters by username or client name, and the hash chain checked on demand
 * (GET /v1/admin/audit/verify, what `airflow webauthn audit verify` calls). Runs on SQLite, and on PostgreSQL with
 * E2E_DATABASE_URL.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { ServiceAccount } from '@app/accounts';
import { runServiceCli } from '../support/service-cli';
import {
  ADMIN_GROUP,
  requestClientToken,
  serviceAccountToken,
  signedInPerson,
  SignedInPerson,
  startTestApp,
  TestApp,
} from '../support/test-app';

jest.setTimeout(120_000);

type Event = Record<string, unknown> & { id: string; type: string };

let t: TestApp;
let admin: SignedInPerson;
let robot: Awaited<ReturnType<typeof serviceAccountToken>>;

const bearer = () => ({ Authorization: `Bearer ${admin.token}` });
const sql = (text: string) => t.app.get(DataSource).query(text);

async function events(query: Record<string, string | number>): Promise<Event[]> {
  const res = await t.http
    .get('/v1/admin/audit')
    .query({ limit: 500, ...query })
    .set(bearer());
  expect(res.status).toBe(200);
  return res.body.items as Event[];
}

/** supertest buffers only text and JSON bodies: collect the NDJSON stream by hand. */
async function exportLines(query: Record<string, string> = {}): Promise<{ text: string; events: Event[] }> {
  const res = await t.http
    .get('/v1/admin/audit/export')
    .query(query)
    .set(bearer())
    .buffer(true)
    .parse((r, cb) => {
      let text = '';
      r.on('data', (chunk: Buffer) => (text += chunk.toString()));
      r.on('end', () => cb(null, text));
    });
  expect(res.status).toBe(200);
  const text = res.body as string;
  return {
    text,
    events: text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Event),
  };
}

const verify = () => t.http.get('/v1/admin/audit/verify').set(bearer());

beforeEach(async () => {
  t = await startTestApp();
  // An admin person (a user actor) and a service account (a subject, and an actor when it takes tokens).
  admin = await signedInPerson(t, { groups: [ADMIN_GROUP] });
  robot = await serviceAccountToken(t, [], 'nightly-loader');
  await requestClientToken(t, robot.clientId, 'wrong-secret').expect(401);
});
afterEach(async () => {
  await t?.close();
});

describe('names in the audit trail', () => {
  it('names actors and subjects that are accounts, keeps every id, and names nothing else', async () => {
    const all = await events({});
    const issued = all.find((e) => e.type === 'token.issued' && e.outcome === 'success' && e.actorId === robot.id);
    expect(issued).toMatchObject({
      actorType: 'service_account',
      actorId: robot.id,
      actorName: 'nightly-loader',
      subjectId: robot.id,
      subjectName: 'nightly-loader',
    });
    const login = all.find((e) => e.type === 'login' && e.subjectId === admin.id);
    expect(login).toMatchObject({ subjectType: 'user', subjectName: admin.username });
    const [read] = await events({ type: 'audit.read', limit: 1 });
    expect(read).toMatchObject({ actorType: 'user', actorId: admin.id, actorName: admin.username });
    // A key, an invite or an anonymous caller has no account name: the id (or nothing) is what the reader gets.
    for (const event of all.filter((e) => e.subjectType === 'signing_key' || e.subjectType === 'invite'))
      expect(event.subjectName).toBeNull();
    for (const event of all.filter((e) => e.actorType === 'anonymous')) expect(event.actorName).toBeNull();
  });

  it('filters by username and by service account name or client id, exactly as by id', async () => {
    const byId = (await events({ actor: admin.id })).map((e) => e.id);
    expect(byId.length).toBeGreaterThan(0);
    // Each read adds an audit.read event by the admin: compare the events older than the first read.
    const older = (ids: string[]) => ids.filter((id) => byId.includes(id));
    expect(older((await events({ actor: admin.username })).map((e) => e.id))).toEqual(byId);
    expect(older((await events({ actor: admin.username.toUpperCase() })).map((e) => e.id))).toEqual(byId);

    const subjectById = (await events({ subject: robot.id })).map((e) => e.id);
    expect(subjectById.length).toBeGreaterThanOrEqual(2);
    expect((await events({ subject: 'nightly-loader' })).map((e) => e.id)).toEqual(subjectById);
    expect((await events({ subject: robot.clientId })).map((e) => e.id)).toEqual(subjectById);
    expect(await events({ subject: 'nobody-by-that-name' })).toEqual([]);
  });

  it('exports names too, and the export still verifies offline (names are not part of the chain)', async () => {
    const { text, events: lines } = await exportLines();
    expect(lines.find((e) => e.actorId === robot.id)).toMatchObject({ actorName: 'nightly-loader' });
    expect((await exportLines({ actor: 'nightly-loader' })).events.map((e) => e.id)).toEqual(
      lines.filter((e) => e.actorId === robot.id).map((e) => e.id),
    );
    const dir = mkdtempSync(join(tmpdir(), 'audit-admin-'));
    try {
      writeFileSync(join(dir, 'trail.jsonl'), text);
      const result = await runServiceCli(['audit', 'verify', '--file', join(dir, 'trail.jsonl')], {
        env: t.env,
        cwd: dir,
      });
      expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 0, stderr: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows the name an account has now, while the stored row keeps only the id', async () => {
    await t.app.get(DataSource).getRepository(ServiceAccount).update(robot.id, { name: 'renamed-loader' });
    const issued = (await events({ actor: robot.id })).find((e) => e.type === 'token.issued');
    expect(issued).toMatchObject({ actorId: robot.id, actorName: 'renamed-loader' });
    expect((await verify()).body).toMatchObject({ ok: true });
  });
});

describe('GET /v1/admin/audit/verify', () => {
  it('answers ok on the trail the service wrote, and records who checked it', async () => {
    const res = await verify();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: true,
      events: expect.any(Number),
      broken: null,
      last: { seq: expect.any(Number), hash: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    expect(res.body.events).toBeGreaterThanOrEqual(5);
    const [record] = await events({ type: 'audit.verified', limit: 1 });
    expect(record).toMatchObject({
      outcome: 'success',
      actorId: admin.id,
      actorName: admin.username,
      details: { events: res.body.events },
    });
  });

  it('names the first bad event when a row was edited in the table', async () => {
    const [victim] = (await sql('SELECT id, seq FROM audit_events WHERE seq = 3')) as Array<{
      id: string;
      seq: string | number;
    }>;
    await sql(`UPDATE audit_events SET actor_id = 'mallory' WHERE id = '${victim!.id}'`);
    const res = await verify();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      ok: false,
      events: expect.any(Number),
      broken: { eventId: victim!.id, seq: 3, problem: expect.stringMatching(/altered/) },
      last: null,
    });
    const [record] = await events({ type: 'audit.verified', limit: 1 });
    expect(record).toMatchObject({ outcome: 'failure', reason: 'chain_broken', details: { brokenSeq: 3 } });
  });

  it('is for admins only', async () => {
    const outsider = await serviceAccountToken(t, ['data-team']);
    expect((await t.http.get('/v1/admin/audit/verify')).status).toBe(401);
    expect((await t.http.get('/v1/admin/audit/verify').set({ Authorization: `Bearer ${outsider.token}` })).status).toBe(
      403,
    );
  });
});
