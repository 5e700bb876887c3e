import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AppConfig } from '@app/config';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source-options';

const sqliteConfig = (database: string) => ({ database: { type: 'better-sqlite3', database } }) as unknown as AppConfig;
const mode = (file: string) => statSync(file).mode & 0o777;

describe('dataSourceOptions on SQLite', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'persistence-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates the database file and its -wal and -shm files readable by the owner only (0600)', async () => {
    const file = join(dir, 'nested', 'auth.sqlite');
    const previous = process.umask(0o000); // even with a permissive umask
    let ds: DataSource;
    try {
      ds = await new DataSource(dataSourceOptions(sqliteConfig(file), [])).initialize();
      await ds.query('CREATE TABLE t (n integer)');
      await ds.query('INSERT INTO t VALUES (1)');
    } finally {
      process.umask(previous);
    }
    expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual([0o600, 0o600, 0o600]);
    expect(mode(join(dir, 'nested'))).toBe(0o700);
    await ds.destroy();
  });

  it('narrows an existing world-readable database file to 0600', async () => {
    const file = join(dir, 'auth.sqlite');
    writeFileSync(file, '');
    chmodSync(file, 0o644);
    const ds = await new DataSource(dataSourceOptions(sqliteConfig(file), [])).initialize();
    expect(mode(file)).toBe(0o600);
    await ds.destroy();
  });
});
