import { DataSource } from 'typeorm';

/** Arbitrary but fixed: every instance of this service asks PostgreSQL for the same advisory lock. */
const MIGRATION_LOCK_KEY = 7_215_304_118;

/**
 * Brings the schema up to date, one instance at a time. Instances started together on an empty PostgreSQL
 * database would otherwise all run the first migration at once, and all but one would fail mid-way. On
 * PostgreSQL a session-level advisory lock, held on its own connection, makes the others wait and then find
 * nothing left to do; SQLite has a single writer (and a single instance) already.
 */
export async function runMigrationsExclusively(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const lock = dataSource.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    try {
      await dataSource.runMigrations({ transaction: 'each' });
    } finally {
      await lock.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]);
    }
  } finally {
    await lock.release();
  }
}
