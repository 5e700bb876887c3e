import { AsyncLocalStorage } from 'node:async_hooks';
import type { DataSource, EntityManager, EntityTarget, ObjectLiteral, QueryRunner } from 'typeorm';
import { EntityRows } from './entity-rows';

/*
 * The one way to run work against the database: `unitOfWork.run(async (tx) => ...)` is a transaction, all or nothing.
 *
 * Everything goes through TypeORM's public QueryRunner API with bound parameters. Inside a unit, use `tx.query` and
 * `tx.manager`'s insert/update/delete/find/count. Never TypeORM's own transactions (manager.transaction, save(),
 * remove()): on SQLite their BEGIN fails inside ours and TypeORM answers with a ROLLBACK of OUR transaction. A test
 * (no-typeorm-transactions.spec.ts) keeps them out of the code.
 *
 * SQLite: the unit of work issues the transaction statements itself (BEGIN IMMEDIATE, SAVEPOINT, COMMIT), as
 * TypeORM cannot begin an IMMEDIATE transaction. TypeORM's better-sqlite3 driver has ONE connection and one query runner for every caller, so two units
 * open at once would share one transaction. Here units take turns on that connection through a queue owned by this
 * class. The units waiting when the connection frees up run together in one BEGIN IMMEDIATE ... COMMIT (group
 * commit: one fsync of the WAL for the group instead of one each), each inside its own SAVEPOINT, so a unit that
 * fails is rolled back alone and only its caller sees the error. No caller hears "committed" before the COMMIT.
 * IMMEDIATE takes the write lock up front (waiting out the CLI's, up to the busy timeout) rather than failing with
 * SQLITE_BUSY half-way through a group.
 *
 * PostgreSQL: each top-level unit takes its own pooled connection; no queue is needed.
 *
 * A unit started inside another one (in the same asynchronous flow) joins it as a SAVEPOINT: its failure rolls back
 * its own work only, and it commits with the outer unit.
 *
 * Keep units short and free of waits other than the database: on SQLite a unit holds the only connection (and the
 * whole group) while it runs. Do slow work (signature checks, key generation) before `run`, not inside.
 */

export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[];
  /** Rows changed by an INSERT/UPDATE/DELETE (for a statement with RETURNING: the rows returned). */
  affected: number;
}

/** An open unit of work. Valid only until the callback given to `run` returns. */
export interface Tx {
  /**
   * One statement with `?` placeholders (turned into `$1..$n` on PostgreSQL). The text should be a constant: it is
   * the key of the driver's prepared-statement cache. Bind instants as epoch ms, booleans as booleans.
   */
  query<Row = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<SqlResult<Row>>;
  /** TypeORM's repository API on this unit's connection (for the paths where building SQL per call is fine). */
  readonly manager: EntityManager;
  readonly dialect: Dialect;
  /** Row ↔ entity mapping through the entity's column metadata, for repositories that write their own SQL. */
  rows<T extends ObjectLiteral>(target: EntityTarget<T>): EntityRows<T>;
}

export type Dialect = 'sqlite' | 'postgres';

interface Pending {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

class OpenTx implements Tx {
  /** Savepoints opened by nested units; names are unique within the transaction. */
  depth = 0;
  /**
   * Set when the unit has ended. A task the unit started and left running still carries it in its asynchronous
   * context; a unit that task opens later must not join a transaction that is over (on SQLite the connection may
   * by then be running someone else's), so it starts a unit of its own.
   */
  closed = false;

  constructor(
    private readonly runner: QueryRunner,
    readonly dialect: Dialect,
    private readonly shared: SharedState,
  ) {}

  get manager(): EntityManager {
    return this.runner.manager;
  }

  /** A view of this transaction for one unit of a group: same connection, its own nesting and end. */
  forUnit(): OpenTx {
    return new OpenTx(this.runner, this.dialect, this.shared);
  }

  rows<T extends ObjectLiteral>(target: EntityTarget<T>): EntityRows<T> {
    let rows = this.shared.rows.get(target);
    if (!rows) {
      rows = new EntityRows(this.shared.dataSource, target);
      this.shared.rows.set(target, rows);
    }
    return rows as EntityRows<T>;
  }

  async query<Row>(sql: string, params: readonly unknown[] = []): Promise<SqlResult<Row>> {
    const text = this.dialect === 'postgres' ? this.pgText(sql) : sql;
    const result = await this.runner.query(
      text,
      params.map((p) => (p === undefined ? null : p)),
      true,
    );
    const rows = (result.records ?? []) as Row[];
    return { rows, affected: result.affected ?? rows.length };
  }

  /** The statement itself, outside the statement cache's concerns (transaction control). */
  exec(sql: string): Promise<unknown> {
    return this.runner.query(sql);
  }

  /** Runs `work` inside a savepoint of this transaction: on failure, only its own changes are undone. */
  async savepoint<T>(work: () => Promise<T>): Promise<T> {
    const name = `uow_${++this.depth}`;
    await this.exec(`SAVEPOINT ${name}`);
    try {
      const value = await work();
      await this.exec(`RELEASE SAVEPOINT ${name}`);
      return value;
    } catch (error) {
      await this.exec(`ROLLBACK TO SAVEPOINT ${name}`);
      await this.exec(`RELEASE SAVEPOINT ${name}`);
      throw error;
    } finally {
      this.depth--;
    }
  }

  private pgText(sql: string): string {
    let text = this.shared.pgTexts.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      this.shared.pgTexts.set(sql, text);
    }
    return text;
  }
}

/** What every unit of one DataSource shares: caches built once. */
interface SharedState {
  dataSource: DataSource;
  /** `?` text → `$n` text, for PostgreSQL. */
  pgTexts: Map<string, string>;
  rows: Map<EntityTarget<ObjectLiteral>, EntityRows<ObjectLiteral>>;
}

export class UnitOfWork {
  readonly dialect: Dialect;
  /** The unit the current asynchronous flow runs in, if any (for nesting). */
  private readonly current = new AsyncLocalStorage<OpenTx>();
  private readonly shared: SharedState;
  private queue: Pending[] = [];
  private draining = false;

  constructor(private readonly dataSource: DataSource) {
    const type = dataSource.options.type;
    if (type === 'better-sqlite3') this.dialect = 'sqlite';
    else if (type === 'postgres') this.dialect = 'postgres';
    else throw new Error(`the unit of work does not support ${type}`);
    this.shared = { dataSource, pgTexts: new Map(), rows: new Map() };
  }

  /** The database driver and whether every migration has run (the service CLI's `migrate` reports it). */
  async schemaStatus(): Promise<{ database: string; upToDate: boolean }> {
    return { database: this.dataSource.options.type, upToDate: !(await this.dataSource.showMigrations()) };
  }

  /** Runs `work` in a transaction and resolves with its value once committed; rolls back and rejects if it throws. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const outer = this.current.getStore();
    if (outer && !outer.closed) return outer.savepoint(() => work(outer));
    if (this.dialect === 'postgres') return this.runOnPool(work);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve as (value: unknown) => void, reject });
      if (!this.draining) {
        this.draining = true;
        // Let the rest of this event-loop turn queue its units too: they join the same group.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async runOnPool<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    const tx = new OpenTx(runner, this.dialect, this.shared);
    try {
      // Through the runner, so that TypeORM knows a transaction is open (belt and braces: should one of its own
      // transaction calls slip in, it becomes a savepoint rather than a BEGIN PostgreSQL ignores and a COMMIT that
      // would end this unit half-way).
      await runner.startTransaction();
      let value: T;
      try {
        value = await this.runUnit(tx, work);
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
      await runner.commitTransaction();
      return value;
    } finally {
      await runner.release();
    }
  }

  /** SQLite: runs the queued units group by group on the one connection until the queue is empty. */
  private async drain(): Promise<void> {
    const runner = this.dataSource.createQueryRunner(); // the driver's single, shared runner
    while (this.queue.length > 0) {
      const group = this.queue;
      this.queue = [];
      const tx = new OpenTx(runner, this.dialect, this.shared);
      let outcomes: Outcome[];
      try {
        await tx.exec('BEGIN IMMEDIATE');
      } catch (error) {
        for (const item of group) item.reject(error);
        continue;
      }
      try {
        outcomes = group.length === 1 ? await this.runAlone(tx, group[0]!) : await this.runGrouped(tx, group);
      } catch (error) {
        // The group could not commit, or a failed unit could not be undone: nobody's work is kept.
        await tx.exec('ROLLBACK').catch(() => undefined);
        for (const item of group) item.reject(error);
        continue;
      }
      outcomes.forEach((outcome, i) =>
        'error' in outcome ? group[i]!.reject(outcome.error) : group[i]!.resolve(outcome.value),
      );
    }
    this.draining = false;
  }

  /** A unit alone in its group: the transaction itself is its boundary (no savepoint needed). */
  private async runAlone(tx: OpenTx, item: Pending): Promise<Outcome[]> {
    try {
      const value = await this.runUnit(tx, item.work);
      await tx.exec('COMMIT');
      return [{ value }];
    } catch (error) {
      await tx.exec('ROLLBACK');
      return [{ error }];
    }
  }

  /**
   * Each unit in its own savepoint; one COMMIT for all. Errors of the transaction statements themselves (a
   * savepoint that cannot be rolled back, the COMMIT) escape to the caller, which rolls the whole group back.
   */
  private async runGrouped(tx: OpenTx, group: readonly Pending[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    for (const item of group) {
      await tx.exec('SAVEPOINT uow_group');
      let outcome: Outcome;
      try {
        outcome = { value: await this.runUnit(tx.forUnit(), item.work) };
      } catch (error) {
        outcome = { error };
      }
      if ('error' in outcome) await tx.exec('ROLLBACK TO SAVEPOINT uow_group');
      await tx.exec('RELEASE SAVEPOINT uow_group');
      outcomes.push(outcome);
    }
    await tx.exec('COMMIT');
    return outcomes;
  }

  /** One unit's work, with `tx` as its context for nesting until the work is over. */
  private async runUnit<T>(tx: OpenTx, work: (tx: Tx) => Promise<T>): Promise<T> {
    try {
      return await this.current.run(tx, () => work(tx));
    } finally {
      tx.closed = true;
    }
  }
}

type Outcome = { value: unknown } | { error: unknown };
