/**
 * The federation migration on a database written by the previous release: existing people stay local (no link),
 * the (issuer, subject) link is unique, and the migration undoes cleanly. SQLite and PostgreSQL.
 */
import { MIGRATIONS } from '@app/persistence';
import { createTestDatabase, migrationIndex, openWithMigrations, TestDatabase } from '../support/test-app';

let database: TestDatabase;

const open = (migrations: typeof MIGRATIONS) => openWithMigrations(database, migrations);

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database?.drop());

it('keeps existing people local, refuses a second person with the same provider link, and undoes cleanly', async () => {
  const federation = migrationIndex('Federation1765000000000');
  const before = await open(MIGRATIONS.slice(0, federation));
  await before.runMigrations();
  await before.query(
    "INSERT INTO users (id, username, display_name, groups, webauthn_user_id, created_at, updated_at) VALUES ('u1', 'alice', 'Alice', '[]', 'h1', 1, 1)",
  );
  await before.destroy();

  const after = await open(MIGRATIONS.slice(0, federation + 1));
  try {
    await after.runMigrations();
    expect(await after.query("SELECT idp_issuer, idp_subject FROM users WHERE id = 'u1'")).toEqual([
      { idp_issuer: null, idp_subject: null },
    ]);
    const insert = (id: string) =>
      after.query(
        `INSERT INTO users (id, username, display_name, groups, webauthn_user_id, created_at, updated_at, idp_issuer, idp_subject) VALUES ('${id}', '${id}', '${id}', '[]', 'h-${id}', 1, 1, 'https://idp.example', 'sub-1')`,
      );
    await insert('u2');
    await expect(insert('u3')).rejects.toThrow();
    await after.undoLastMigration();
    expect((await after.query("SELECT * FROM users WHERE id = 'u1'"))[0]).not.toHaveProperty('idp_issuer');
  } finally {
    await after.destroy();
  }
});
