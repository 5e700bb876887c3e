import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { Tx, UnitOfWork } from './unit-of-work';

/*
 * The unit of work on a real SQLite database, and on a real PostgreSQL one when E2E_DATABASE_URL is set (each run in
 * its own schema). Units here yield to the event loop between statements, as a request waiting on I/O does.
 */

interface Db {
  ds: DataSource;
  uow: UnitOfWork;
  close(): Promise<void>;
}

async function sqlite(): Promise<Db> {
  const ds = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
  await ds.query(
    'CREATE TABLE items (id varchar PRIMARY KEY, owner varchar NOT NULL, n bigint NOT NULL, flag boolean NOT NULL)',
  );
  return { ds, uow: new UnitOfWork(ds), close: () => ds.destroy() };
}

async function postgres(base: string): Promise<Db> {
  const schema = `uow_${randomBytes(6).toString('hex')}`;
  const admin = await new DataSource({ type: 'postgres', url: base }).initialize();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const ds = await new DataSource({
    type: 'postgres',
    url: `${base}${base.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`,
  }).initialize();
  await ds.query(
    'CREATE TABLE items (id varchar PRIMARY KEY, owner varchar NOT NULL, n bigint NOT NULL, flag boolean NOT NULL)',
  );
  return {
    ds,
    uow: new UnitOfWork(ds),
    async close() {
      await ds.destroy();
      await admin.query(`DROP SCHEMA "${schema}" CASCADE`);
      await admin.destroy();
    },
  };
}

const INSERT = 'INSERT INTO items (id, owner, n, flag) VALUES (?, ?, ?, ?)';
let seq = 0;
const insert = (tx: Tx, owner: string, n = 0) => tx.query(INSERT, [`${owner}-${++seq}`, owner, n, false]);

const dialects: [string, () => Promise<Db>][] = [['SQLite', sqlite]];
if (process.env.E2E_DATABASE_URL) dialects.push(['PostgreSQL', () => postgres(process.env.E2E_DATABASE_URL!)]);

describe.each(dialects)('UnitOfWork on %s', (_name, open) => {
  let db: Db;
  beforeEach(async () => {
    db = await open();
  });
  afterEach(async () => db.close());

  const owners = async () =>
    (await db.uow.run((tx) => tx.query<{ owner: string }>('SELECT owner FROM items ORDER BY owner, id'))).rows.map(
      (r) => r.owner,
    );
  const count = async (owner: string) => (await owners()).filter((o) => o === owner).length;

  /** Two statements with an event-loop turn in between; throws at the end when `fail`. */
  const writer = (owner: string, fail = false) =>
    db.uow.run(async (tx) => {
      await insert(tx, owner, 1);
      await sleep(1);
      await insert(tx, owner, 2);
      if (fail) throw new Error(`${owner} fails`);
      return owner;
    });

  it('binds numbers and booleans as parameters and reads rows back', async () => {
    await db.uow.run((tx) => tx.query(INSERT, ['a', 'a', 1_764_300_000_123, true]));
    const { rows } = await db.uow.run((tx) =>
      tx.query<{ n: unknown; flag: unknown }>('SELECT n, flag FROM items WHERE id = ?', ['a']),
    );
    expect(Number(rows[0]!.n)).toBe(1_764_300_000_123);
    expect([1, true]).toContain(rows[0]!.flag);
  });

  it('runs concurrent units each with all of its own work, and resolves with their values', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => writer(`w${i}`)));
    expect(results).toEqual(Array.from({ length: 8 }, (_, i) => `w${i}`));
    expect((await owners()).length).toBe(16);
  });

  it("rolls back only the failing unit among concurrent ones, never a neighbour's work", async () => {
    const results = await Promise.allSettled([writer('a'), writer('b', true), writer('c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toBe('b fails');
    expect([await count('a'), await count('b'), await count('c')]).toEqual([2, 0, 2]);
  });

  it('reports a constraint violation to its own caller only', async () => {
    const put = (id: string) => db.uow.run((tx) => tx.query(INSERT, [id, id, 0, false]));
    const outcomes = await Promise.allSettled([put('dup'), put('dup'), put('fine')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await owners()).toEqual(['dup', 'fine']);
  });

  it('lets exactly one of several concurrent DELETE ... RETURNING of one row have it', async () => {
    await db.uow.run((tx) => tx.query(INSERT, ['once', 'once', 0, false]));
    const takes = await Promise.all(
      Array.from({ length: 5 }, () =>
        db.uow.run((tx) => tx.query('DELETE FROM items WHERE id = ? RETURNING id', ['once'])),
      ),
    );
    expect(takes.map((r) => r.rows.length).sort()).toEqual([0, 0, 0, 0, 1]);
  });

  it('rolls back only the unit whose compare-and-set lost', async () => {
    await db.uow.run((tx) => tx.query(INSERT, ['k', 'k', 5, false]));
    const cas = (marker: string) =>
      db.uow.run(async (tx) => {
        const { affected } = await tx.query('UPDATE items SET n = ? WHERE id = ? AND n = ?', [6, 'k', 5]);
        if (affected !== 1) throw new Error(`lost ${marker}`);
        await insert(tx, marker);
      });
    const outcomes = await Promise.allSettled([cas('first'), cas('second'), writer('other')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await owners()).toEqual(['first', 'k', 'other', 'other']);
  });

  it('joins a nested unit of the same flow as a savepoint (it does not wait for itself) and commits them together', async () => {
    await db.uow.run(async (tx) => {
      await insert(tx, 'outer');
      await db.uow.run((inner) => insert(inner, 'inner'));
    });
    expect(await owners()).toEqual(['inner', 'outer']);
  });

  it('undoes only a failing nested unit; the outer one goes on and commits', async () => {
    await db.uow.run(async (tx) => {
      await insert(tx, 'outer');
      await expect(
        db.uow.run(async (inner) => {
          await insert(inner, 'inner');
          throw new Error('inner fails');
        }),
      ).rejects.toThrow('inner fails');
      await insert(tx, 'after');
    });
    expect(await owners()).toEqual(['after', 'outer']);
  });

  /** Runs `work` in a unit that then fails, and checks that nothing it did was kept. */
  async function failsKeepingNothing(work: (tx: Tx) => Promise<unknown>) {
    await expect(
      db.uow.run(async (tx) => {
        await work(tx);
        throw new Error('outer fails');
      }),
    ).rejects.toThrow('outer fails');
    expect(await owners()).toEqual([]);
  }

  it('takes a nested unit down with the outer one that fails', async () => {
    await failsKeepingNothing(async (tx) => {
      await db.uow.run((inner) => insert(inner, 'inner'));
      await insert(tx, 'outer');
    });
  });

  it('gives a task left running by an ended unit a unit of its own, never the ended (or a later) transaction', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let leftover!: Promise<unknown>;
    await db.uow.run(async (tx) => {
      await insert(tx, 'unit');
      leftover = (async () => {
        await gate;
        return db.uow.run((own) => insert(own, 'leftover'));
      })();
    });
    // Open (and about to fail) while the leftover task starts its unit: the leftover must not become part of it.
    const failing = db.uow.run(async (tx) => {
      await insert(tx, 'failing');
      release();
      await sleep(5);
      throw new Error('fails');
    });
    await expect(failing).rejects.toThrow('fails');
    await leftover;
    expect(await owners()).toEqual(['leftover', 'unit']);
  });

  // PostgreSQL only: on SQLite TypeORM's own transactions cannot work inside a unit and are kept out of the code by
  // no-typeorm-transactions.spec.ts.
  (_name === 'PostgreSQL' ? it : it.skip)(
    "never lets TypeORM's own transaction call inside a unit commit the unit early",
    async () => {
      const sql = (d: string) =>
        d === 'postgres' ? 'INSERT INTO items (id, owner, n, flag) VALUES ($1, $2, $3, $4)' : INSERT;
      await failsKeepingNothing(async (tx) => {
        await insert(tx, 'outer');
        // A savepoint of the unit's transaction, not a BEGIN (ignored) and a COMMIT (of the unit's work so far).
        await tx.manager
          .transaction((m) => m.query(sql(tx.dialect), ['typeorm-1', 'typeorm', 0, false]))
          .catch(() => undefined);
      });
    },
  );

  it('keeps units apart while one waits on something else mid-way (no half-done state is seen or committed)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = db.uow.run(async (tx) => {
      await insert(tx, 'slow');
      await gate;
      throw new Error('slow rolls back');
    });
    await sleep(5);
    // Queued while the slow unit is open: it must not read the slow unit's row, nor be committed with or undone by it.
    const seen = db.uow.run(async (tx) => {
      await insert(tx, 'mine');
      return (await tx.query<{ owner: string }>('SELECT owner FROM items ORDER BY owner')).rows.map((r) => r.owner);
    });
    await sleep(5);
    release();
    await expect(slow).rejects.toThrow('slow rolls back');
    expect(await seen).toEqual(['mine']);
    expect(await owners()).toEqual(['mine']);
  });
});

describe('UnitOfWork on SQLite: group commit', () => {
  it('commits the units queued in one turn of the event loop with one COMMIT', async () => {
    const ds = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
    await ds.query(
      'CREATE TABLE items (id varchar PRIMARY KEY, owner varchar NOT NULL, n bigint NOT NULL, flag boolean NOT NULL)',
    );
    const uow = new UnitOfWork(ds);
    const statements: string[] = [];
    const runner = ds.createQueryRunner();
    const query = runner.query.bind(runner);
    // Observe only (the unit of work does not depend on this): which transaction statements reach the connection.
    jest.spyOn(runner, 'query').mockImplementation((sql: string, ...rest: unknown[]) => {
      statements.push(sql.split(' ')[0]!);
      return (query as (...a: unknown[]) => Promise<unknown>)(sql, ...rest) as never;
    });
    await Promise.all(Array.from({ length: 5 }, (_, i) => uow.run((tx) => tx.query(INSERT, [`g${i}`, 'g', 0, false]))));
    expect(statements.filter((s) => s === 'COMMIT')).toHaveLength(1);
    expect(statements.filter((s) => s === 'BEGIN')).toHaveLength(1);
    expect(statements.filter((s) => s === 'INSERT')).toHaveLength(5);
    await ds.destroy();
  });
});
