/**
 * The audit-chain migration on a trail written by the previous release: existing rows are chained oldest first, the
 * service appends after them, and `audit verify` finds the whole trail intact. SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { MIGRATIONS } from '@app/persistence';
import { runServiceCli } from '../support/service-cli';
import {
  createServiceAccount,
  createTestDatabase,
  migrationIndex,
  openWithMigrations,
  startTestApp,
  TestDatabase,
  testEnvironment,
} from '../support/test-app';

jest.setTimeout(60_000);

let database: TestDatabase;
let cwd: string;

beforeAll(async () => {
  database = await createTestDatabase();
  cwd = mkdtempSync(join(tmpdir(), 'audit-chain-migration-'));
});
afterAll(async () => {
  await database?.drop();
  rmSync(cwd, { recursive: true, force: true });
});

it('chains the rows already in the trail, and the service continues the chain', async () => {
  const before = await openWithMigrations(database, MIGRATIONS.slice(0, migrationIndex('AuditChain1765100000000')));
  await before.runMigrations();
  // Recent enough to be within the retention period (the service prunes at start-up).
  const t0 = Date.now() - 60_000;
  for (const [id, at, details] of [
    ['b-old', t0 + 2000, '{"z":1,"a":[1,"x"]}'],
    ['a-old', t0 + 2000, '{}'],
    ['c-old', t0 + 1000, '{"note":"first"}'],
  ] as const) {
    await before
      .createQueryBuilder()
      .insert()
      .into('audit_events')
      .values({
        id,
        occurred_at: at,
        type: 'login',
        outcome: 'failure',
        reason: 'bad_signature',
        actor_type: 'anonymous',
        details,
      })
      .execute();
  }
  await before.destroy();

  const env = testEnvironment(database.url);
  const service = await startTestApp({ DATABASE_URL: database.url, KEY_ENCRYPTION_KEY: env.KEY_ENCRYPTION_KEY });
  try {
    await createServiceAccount(service);
    const rows = await service.app
      .get(DataSource)
      .query<Array<{ id: string; seq: string | number }>>(
        "SELECT id, seq FROM audit_events WHERE id LIKE '%-old' ORDER BY seq",
      );
    // Oldest first; events of the same instant in id order.
    expect(rows.map((r) => [r.id, Number(r.seq)])).toEqual([
      ['c-old', 1],
      ['a-old', 2],
      ['b-old', 3],
    ]);
    const result = await runServiceCli(['audit', 'verify', '--json'], { env: { ...env, NODE_ENV: 'test' }, cwd });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, first: 1 });
    expect(JSON.parse(result.stdout).events).toBeGreaterThan(3);
  } finally {
    await service.close();
  }
});
