import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AppConfig } from '@app/config';
import type { DataSourceOptions, MixedList, EntitySchema } from 'typeorm';
import { MIGRATIONS } from './migrations';
import { SnakeCaseColumns } from './columns';

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export type EntityList = MixedList<Function | string | EntitySchema>;

/** Options for the service's DataSource: migrations always, `synchronize` never. */
export function dataSourceOptions(config: AppConfig, entities: EntityList): DataSourceOptions {
  const common = {
    entities,
    namingStrategy: new SnakeCaseColumns(),
    migrations: MIGRATIONS,
    migrationsRun: false,
    synchronize: false,
    logging: false,
  } as const;
  if (config.database.type === 'postgres') {
    return { ...common, type: 'postgres', url: config.database.url, extra: { max: 10 } };
  }
  const file = config.database.database;
  if (file !== ':memory:') createPrivateFile(file);
  return {
    ...common,
    type: 'better-sqlite3',
    database: file,
    // WAL lets the CLI and the service use one file at once; the busy timeout rides out the other's write lock.
    enableWAL: file !== ':memory:',
    timeout: 5000,
    prepareDatabase: (db: { pragma: (sql: string) => unknown }) => {
      db.pragma('foreign_keys = ON');
    },
  };
}

/**
 * The database holds password-equivalent material (signing keys, secret hashes, the audit trail): it is created
 * readable by its owner only (0600), and an existing file is narrowed to that. SQLite gives the -wal and -shm files
 * it creates the permissions of the database file, so they are 0600 too.
 */
function createPrivateFile(file: string): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  closeSync(openSync(file, 'a', 0o600));
  chmodSync(file, 0o600);
}
