import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { queueSqliteTransactions } from './sqlite-transaction-queue';

async function database(queued: boolean): Promise<DataSource> {
  const dataSource = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
  await dataSource.query('CREATE TABLE rows (owner TEXT NOT NULL, n INTEGER NOT NULL)');
  if (queued) queueSqliteTransactions(dataSource);
  return dataSource;
}

/** A transaction that yields to the event loop between its statements, as a request waiting on I/O does. */
const writer = (dataSource: DataSource, owner: string, fail = false) =>
  dataSource.manager.transaction(async (manager) => {
    await manager.query('INSERT INTO rows (owner, n) VALUES (?, 1)', [owner]);
    await sleep(1);
    await manager.query('INSERT INTO rows (owner, n) VALUES (?, 2)', [owner]);
    if (fail) throw new Error(`${owner} fails`);
  });

const count = async (dataSource: DataSource, owner?: string) =>
  Number((await dataSource.query(`SELECT COUNT(*) AS c FROM rows${owner ? ' WHERE owner = ?' : ''}`, owner ? [owner] : []))[0].c);

describe('queueSqliteTransactions', () => {
  it("is needed: without it, concurrent transactions on TypeORM's shared SQLite runner collide", async () => {
    const dataSource = await database(false);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => writer(dataSource, `w${i}`)));
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
    await dataSource.destroy();
  });

  it('lets concurrent transactions take turns, each committing all of its own work', async () => {
    const dataSource = await database(true);
    const results = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => writer(dataSource, `w${i}`)));
    expect(results.map((r) => r.status)).toEqual(Array(8).fill('fulfilled'));
    expect(await count(dataSource)).toBe(16);
    await dataSource.destroy();
  });

  it("rolls back only the failing transaction, never a neighbour's work", async () => {
    const dataSource = await database(true);
    const results = await Promise.allSettled([writer(dataSource, 'a'), writer(dataSource, 'b', true), writer(dataSource, 'c')]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect([await count(dataSource, 'a'), await count(dataSource, 'b'), await count(dataSource, 'c')]).toEqual([2, 0, 2]);
    await dataSource.destroy();
  });

  it('does not make a nested transaction of the same flow wait for itself', async () => {
    const dataSource = await database(true);
    await dataSource.manager.transaction(async (manager) => {
      await manager.query("INSERT INTO rows (owner, n) VALUES ('outer', 1)");
      await dataSource.manager.transaction((inner) => inner.query("INSERT INTO rows (owner, n) VALUES ('inner', 1)"));
    });
    expect(await count(dataSource)).toBe(2);
    await dataSource.destroy();
  });

  it('queues the transactions TypeORM opens by itself for save() alongside callback transactions', async () => {
    const dataSource = await database(true);
    const runner = dataSource.createQueryRunner();
    const direct = async (owner: string) => {
      await runner.startTransaction();
      await runner.query('INSERT INTO rows (owner, n) VALUES (?, 1)', [owner]);
      await sleep(1);
      await runner.commitTransaction();
    };
    const results = await Promise.allSettled([direct('d1'), writer(dataSource, 'w1'), direct('d2'), writer(dataSource, 'w2')]);
    expect(results.map((r) => r.status)).toEqual(Array(4).fill('fulfilled'));
    expect(await count(dataSource)).toBe(6);
    await dataSource.destroy();
  });
});
