import { DataSource } from 'typeorm';
import { dataSourceOptions } from '@app/persistence';
import type { AppConfig } from '@app/config';
import { ALL_ENTITIES } from './entities';

/*
 * The entities and the migrations describe one schema twice (the migrations are the DDL, the entities how TypeORM
 * reads and writes it). This checks, on SQLite after every migration, that each entity's table has exactly the
 * entity's columns under the names the entity maps them to, with the same nullability and primary key, so a
 * column helper or the naming strategy can't silently point an entity at a column that isn't there.
 */
describe('entities match the migrated schema', () => {
  let ds: DataSource;

  beforeAll(async () => {
    const config = { database: { type: 'better-sqlite3', database: ':memory:' } } as unknown as AppConfig;
    ds = await new DataSource(dataSourceOptions(config, ALL_ENTITIES)).initialize();
    await ds.runMigrations();
  });
  afterAll(() => ds?.destroy());

  it.each(ALL_ENTITIES.map((entity) => [entity.name, entity]))('%s', async (_name, entity) => {
    const metadata = ds.getMetadata(entity);
    const table = await ds.query<{ name: string; notnull: number; pk: number }[]>(
      `PRAGMA table_info("${metadata.tableName}")`,
    );
    const fromTable = table
      .map((c) => ({ name: c.name, nullable: c.notnull === 0 && c.pk === 0, primary: c.pk > 0 }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const fromEntity = metadata.columns
      .map((c) => ({ name: c.databaseName, nullable: c.isNullable, primary: c.isPrimary }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(fromEntity).toEqual(fromTable);
  });
});
