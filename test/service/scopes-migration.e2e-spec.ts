/**
 * The service-account scopes migration on a database written by the previous release: accounts in an admin group
 * keep what they could do (`admin sessions:read`), every other account gets no scopes. SQLite and PostgreSQL.
 */
import { MIGRATIONS } from '@app/persistence';
import { createTestDatabase, migrationIndex, openWithMigrations, TestDatabase } from '../support/test-app';

let database: TestDatabase;
const savedAdminGroups = process.env.ADMIN_GROUPS;

const open = (migrations: typeof MIGRATIONS) => openWithMigrations(database, migrations);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  if (savedAdminGroups === undefined) delete process.env.ADMIN_GROUPS;
  else process.env.ADMIN_GROUPS = savedAdminGroups;
  await database?.drop();
});

it('gives existing admin-group accounts admin sessions:read and every other account no scopes', async () => {
  const before = await open(MIGRATIONS.slice(0, 1));
  await before.runMigrations();
  const row = (id: string, groups: string[]) =>
    before
      .createQueryBuilder()
      .insert()
      .into('service_accounts')
      .values({
        id,
        name: id,
        client_id: `sa_${id}`,
        secret_hash: 'x',
        groups: JSON.stringify(groups),
        created_by: 'old',
        created_at: 1,
        secret_rotated_at: 1,
        disabled_at: null,
      })
      .execute();
  await row('airflow', ['airflow-admins']);
  await row('platform', ['ops', 'platform-admins']);
  await row('ci', ['ci']);
  await row('nobody', []);
  await before.destroy();

  process.env.ADMIN_GROUPS = 'airflow-admins, platform-admins';
  // Up to this migration only, so that undoing the last one below undoes this one whatever comes after it.
  const upToScopes = MIGRATIONS.slice(0, migrationIndex('ServiceAccountScopes1764900000000') + 1);
  const after = await open(upToScopes);
  try {
    expect(await after.runMigrations()).toHaveLength(upToScopes.length - 1);
    const rows: Array<{ id: string; scopes: string }> = await after.query(
      'SELECT id, scopes FROM service_accounts ORDER BY id',
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, JSON.parse(r.scopes)]))).toEqual({
      airflow: ['admin', 'sessions:read'],
      platform: ['admin', 'sessions:read'],
      ci: [],
      nobody: [],
    });
    // New rows without an explicit value get the column default: no scopes.
    await after
      .createQueryBuilder()
      .insert()
      .into('service_accounts')
      .values({
        id: 'later',
        name: 'later',
        client_id: 'sa_later',
        secret_hash: 'x',
        groups: '[]',
        created_by: 'x',
        created_at: 1,
        secret_rotated_at: 1,
      })
      .execute();
    expect(await after.query("SELECT scopes FROM service_accounts WHERE id = 'later'")).toEqual([{ scopes: '[]' }]);
    await after.undoLastMigration();
    expect((await after.query('SELECT * FROM service_accounts'))[0]).not.toHaveProperty('scopes');
  } finally {
    await after.destroy();
  }
});
