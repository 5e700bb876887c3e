import { DataSource } from 'typeorm';
import { AffectedRowsMismatch, PortableSql } from './portable-sql';

/** The group-commit and statement semantics the hot paths rely on, on a real (in-memory) SQLite database. */
describe('PortableSql on SQLite', () => {
  let ds: DataSource;
  let sql: PortableSql;
  beforeEach(async () => {
    ds = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
    await ds.query('CREATE TABLE items (id varchar PRIMARY KEY, n bigint NOT NULL, flag boolean NOT NULL)');
    sql = PortableSql.of(ds);
  });
  afterEach(async () => ds.destroy());

  const count = async () => Number((await sql.query<{ c: number }>('SELECT COUNT(*) AS c FROM items')).rows[0]!.c);

  it('binds numbers and booleans as parameters and reads rows back', async () => {
    await sql.transaction([{ sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: ['a', 1_764_300_000_123, true] }]);
    expect((await sql.query('SELECT id, n, flag FROM items WHERE id = ?', ['a'])).rows).toEqual([{ id: 'a', n: 1_764_300_000_123, flag: 1 }]);
  });

  it('lets exactly one of several concurrent DELETE ... RETURNING of one row have it', async () => {
    await sql.transaction([{ sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: ['once', 0, false] }]);
    const takes = await Promise.all(Array.from({ length: 5 }, () => sql.transaction([{ sql: 'DELETE FROM items WHERE id = ? RETURNING id', params: ['once'] }])));
    expect(takes.map(([r]) => r!.rows.length).sort()).toEqual([0, 0, 0, 0, 1]);
  });

  it('rolls back only the transaction whose compare-and-set lost, when several commit in one group', async () => {
    await sql.transaction([{ sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: ['k', 5, false] }]);
    const cas = (expected: number, marker: string) =>
      sql.transaction([
        { sql: 'UPDATE items SET n = ? WHERE id = ? AND n = ?', params: [expected + 1, 'k', expected], expectAffected: 1, onMismatch: () => new Error(`lost ${marker}`) },
        { sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: [marker, 0, false] },
      ]);
    const outcomes = await Promise.allSettled([cas(5, 'first'), cas(5, 'second'), sql.transaction([{ sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: ['other', 0, true] }])]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason.message).toBe('lost second');
    // The loser's INSERT is gone with its failed UPDATE; the winner's and the bystander's are committed.
    expect((await sql.query('SELECT id FROM items ORDER BY id')).rows.map((r) => r.id)).toEqual(['first', 'k', 'other']);
    expect((await sql.query('SELECT n FROM items WHERE id = ?', ['k'])).rows[0]).toEqual({ n: 6 });
  });

  it('reports a constraint violation to its own caller only', async () => {
    const insert = (id: string) => sql.transaction([{ sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: [id, 0, false] }]);
    const outcomes = await Promise.allSettled([insert('dup'), insert('dup'), insert('fine')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await count()).toBe(2);
  });

  it('fails with AffectedRowsMismatch when no error is given', async () => {
    await expect(sql.transaction([{ sql: 'UPDATE items SET n = 1 WHERE id = ?', params: ['missing'], expectAffected: 1 }])).rejects.toBeInstanceOf(AffectedRowsMismatch);
  });

  it('runs at once, inside it, when called from within a TypeORM transaction (and rolls back with it)', async () => {
    await ds.manager
      .transaction(async () => {
        await sql.transaction([{ sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: ['inner', 0, false] }]);
        expect(await count()).toBe(1);
        throw new Error('roll back');
      })
      .catch(() => undefined);
    expect(await count()).toBe(0);
  });

  it('never commits a group inside a TypeORM transaction that began meanwhile and is waiting on I/O', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Queued first (no transaction open yet); the group would commit on the next turn of the event loop...
    const mine = sql.transaction([{ sql: 'INSERT INTO items (id, n, flag) VALUES (?, ?, ?)', params: ['mine', 0, false] }]);
    // ...but by then this transaction holds the connection, waiting on something else, and will roll back.
    const outer = ds.manager
      .transaction(async (m) => {
        await m.query("INSERT INTO items (id, n, flag) VALUES ('outer', 0, 0)");
        await gate;
        throw new Error('outer rolls back');
      })
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 20));
    release();
    await outer;
    await mine;
    expect((await sql.query('SELECT id FROM items')).rows.map((r) => r.id)).toEqual(['mine']);
  });
});
