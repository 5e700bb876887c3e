/**
 * The session-generation migration on a database written by the previous release: people, their passkeys (whose
 * foreign key points at users, which SQLite rebuilds to add a column) and service accounts all survive, at
 * generation 0 (the generation of every token issued before the claim), and the migration undoes cleanly.
 * SQLite and PostgreSQL.
 */
import { MIGRATIONS } from '@app/persistence';
import { createTestDatabase, migrationIndex, openWithMigrations, TestDatabase } from '../support/test-app';

let database: TestDatabase;

const open = (migrations: typeof MIGRATIONS) => openWithMigrations(database, migrations);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.drop());

it('keeps people, passkeys and service accounts at generation 0, and undoes cleanly', async () => {
  const generations = migrationIndex('SessionGenerations1766300000000');
  const before = await open(MIGRATIONS.slice(0, generations));
  await before.runMigrations();
  await before.query(
    'INSERT INTO users (id, username, display_name, groups, webauthn_user_id, created_at, updated_at) ' +
      "VALUES ('u1', 'alice', 'Alice', '[\"airflow-admins\"]', 'h1', 1, 1)",
  );
  await before.query(
    'INSERT INTO passkeys (id, user_id, credential_id, public_key, algorithm, counter, transports, aaguid, ' +
      'device_type, backup_eligible, backed_up, attestation_format, label, created_at) ' +
      "VALUES ('p1', 'u1', 'cred-1', 'key', -8, 0, '[]', 'aaguid', 'singleDevice', false, false, 'none', 'Key', 1)",
  );
  await before.query(
    'INSERT INTO service_accounts (id, name, client_id, secret_hash, groups, created_by, created_at, secret_rotated_at) ' +
      "VALUES ('s1', 'airflow', 'sa_1', 'hash', '[]', 'cli', 1, 1)",
  );
  await before.destroy();

  const after = await open(MIGRATIONS.slice(0, generations + 1));
  try {
    await after.runMigrations();
    const users = await after.query("SELECT session_generation, sessions_ended_reason FROM users WHERE id = 'u1'");
    expect(users.map((r: { session_generation: unknown }) => Number(r.session_generation))).toEqual([0]);
    expect(await after.query("SELECT id FROM passkeys WHERE user_id = 'u1'")).toEqual([{ id: 'p1' }]);
    const accounts = await after.query("SELECT session_generation FROM service_accounts WHERE id = 's1'");
    expect(accounts.map((r: { session_generation: unknown }) => Number(r.session_generation))).toEqual([0]);
    await after.undoLastMigration();
    expect((await after.query("SELECT * FROM users WHERE id = 'u1'"))[0]).not.toHaveProperty('session_generation');
    expect(await after.query("SELECT id FROM passkeys WHERE user_id = 'u1'")).toEqual([{ id: 'p1' }]);
  } finally {
    await after.destroy();
  }
});
