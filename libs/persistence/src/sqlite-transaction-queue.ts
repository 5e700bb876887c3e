import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, QueryRunner } from 'typeorm';

/*
 * TypeORM's better-sqlite3 driver hands every caller the SAME query runner on the one connection. Two requests
 * that open transactions at the same time therefore collide: the second BEGIN fails ("cannot start a transaction
 * within a transaction", a 500), or, a moment later, the second request's work silently becomes a savepoint inside
 * the first one's transaction and is committed or rolled back with it.
 *
 * This queue makes top-level transactions on SQLite take turns. A transaction opened inside another one by the
 * same asynchronous flow (nested `manager.transaction`, or a `save()` inside a transaction callback) is a real
 * savepoint and does not wait. PostgreSQL has a pool of connections and needs none of this.
 */

class Turnstile {
  private tail: Promise<void> = Promise.resolve();

  /** Resolves when it is the caller's turn, with the function that ends the turn. */
  async enter(): Promise<() => void> {
    let leave!: () => void;
    const turn = new Promise<void>((resolve) => (leave = resolve));
    const before = this.tail;
    this.tail = before.then(() => turn);
    await before;
    return leave;
  }
}

const patched = new WeakSet<DataSource>();

export function queueSqliteTransactions(dataSource: DataSource): void {
  if (dataSource.options.type !== 'better-sqlite3' || patched.has(dataSource)) return;
  patched.add(dataSource);

  const turnstile = new Turnstile();
  /** Set for the whole callback of a top-level `manager.transaction` that holds the turn. */
  const holding = new AsyncLocalStorage<true>();
  const manager = dataSource.manager;
  const runner: QueryRunner = dataSource.createQueryRunner(); // the driver's single, shared runner

  const transaction = manager.transaction.bind(manager) as (...args: unknown[]) => Promise<unknown>;
  (manager as { transaction: unknown }).transaction = async (...args: unknown[]) => {
    if (holding.getStore()) return transaction(...args);
    const leave = await turnstile.enter();
    try {
      return await holding.run(true, () => transaction(...args));
    } finally {
      leave();
    }
  };

  // Transactions TypeORM opens by itself (save/remove outside a callback) start on the runner directly.
  const start = runner.startTransaction.bind(runner);
  const commit = runner.commitTransaction.bind(runner);
  const rollback = runner.rollbackTransaction.bind(runner);
  let leaveDirect: (() => void) | undefined;
  const endDirectTurn = () => {
    if (leaveDirect && runner.isTransactionActive === false) {
      const leave = leaveDirect;
      leaveDirect = undefined;
      leave();
    }
  };
  runner.startTransaction = async (isolation) => {
    if (holding.getStore()) return start(isolation);
    const leave = await turnstile.enter();
    leaveDirect = leave;
    try {
      await start(isolation);
    } catch (error) {
      leaveDirect = undefined;
      leave();
      throw error;
    }
  };
  runner.commitTransaction = async () => {
    try {
      await commit();
    } finally {
      if (!holding.getStore()) endDirectTurn();
    }
  };
  runner.rollbackTransaction = async () => {
    try {
      await rollback();
    } finally {
      if (!holding.getStore()) endDirectTurn();
    }
  };
}
