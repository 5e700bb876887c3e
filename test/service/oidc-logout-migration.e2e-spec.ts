/**
 * The provider-sessions migration on a database written by the previous release: the recorded sid is unique per
 * issuer, goes with its person (ON DELETE CASCADE), a logout token's jti can be used once, and the migration undoes
 * cleanly. SQLite and PostgreSQL.
 */
import { MIGRATIONS } from '@app/persistence';
import { createTestDatabase, migrationIndex, openWithMigrations, TestDatabase } from '../support/test-app';

let database: TestDatabase;

const open = (migrations: typeof MIGRATIONS) => openWithMigrations(database, migrations);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.drop());

it('adds idp_sessions (unique per issuer and sid, cascading with the person) and used_logout_tokens, and undoes cleanly', async () => {
  const index = migrationIndex('ProviderSessions1765300000000');
  expect(index).toBeGreaterThan(0);
  const before = await open(MIGRATIONS.slice(0, index));
  await before.runMigrations();
  await before.query(
    "INSERT INTO users (id, username, display_name, groups, webauthn_user_id, created_at, updated_at, idp_issuer, idp_subject) VALUES ('u1', 'bob', 'Bob', '[]', 'h1', 1, 1, 'https://idp.example', 'sub-1')",
  );
  await before.destroy();

  const after = await open(MIGRATIONS.slice(0, index + 1));
  try {
    await after.runMigrations();
    const session = (id: string, issuer: string, sid: string) =>
      after.query(
        `INSERT INTO idp_sessions (id, idp_issuer, sid, user_id, created_at, expires_at) VALUES ('${id}', '${issuer}', '${sid}', 'u1', 1, 2)`,
      );
    await session('s1', 'https://idp.example', 'sid-1');
    await session('s2', 'https://other.example', 'sid-1');
    await expect(session('s3', 'https://idp.example', 'sid-1')).rejects.toThrow();
    const jti = (id: string) =>
      after.query(`INSERT INTO used_logout_tokens (id, jti_hash, expires_at) VALUES ('${id}', 'h', 1)`);
    await jti('t1');
    await expect(jti('t2')).rejects.toThrow();
    await after.query("DELETE FROM users WHERE id = 'u1'");
    expect(await after.query('SELECT id FROM idp_sessions')).toEqual([]);
    await after.undoLastMigration();
    await expect(after.query('SELECT id FROM idp_sessions')).rejects.toThrow();
    await expect(after.query('SELECT jti_hash FROM used_logout_tokens')).rejects.toThrow();
  } finally {
    await after.destroy();
  }
});
