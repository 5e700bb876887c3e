import type { DataSource, EntityManager, QueryRunner } from 'typeorm';

/*
 * Hand-written SQL for the few hot paths (sign-in, token grants, audit), run on TypeORM's own connections.
 *
 * Why not the repository API there: TypeORM builds the SQL text on every call (0.1-0.3 ms each), and its SQLite
 * driver inlines numeric parameters (instants, counters) into that text, so nearly every INSERT/UPDATE is a new
 * statement to prepare and its 100-entry statement cache keeps evicting the hot ones. Here every statement is a
 * constant string with `?` placeholders, bound by the driver and prepared once.
 *
 * One text serves both dialects: `?` becomes `$1..$n` on PostgreSQL. Use only portable SQL (RETURNING is fine:
 * SQLite >= 3.35 and PostgreSQL both have it). Bind instants as epoch-ms numbers and booleans as booleans.
 */

export interface SqlResult<Row = Record<string, unknown>> {
  rows: Row[];
  /** Rows changed by an INSERT/UPDATE/DELETE (for a statement with RETURNING: the rows returned). */
  affected: number;
}

export interface SqlStatement {
  sql: string;
  params: readonly unknown[];
  /** When set, the transaction fails (and rolls back) unless exactly this many rows changed. */
  expectAffected?: number;
  /** The error to throw on a mismatch (default: a generic one). */
  onMismatch?: () => Error;
}

interface SqliteStatement {
  reader: boolean;
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number };
}
type SqliteTransactionFn<F> = F & { immediate: F };
interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  inTransaction: boolean;
  transaction<F extends (...args: never[]) => unknown>(fn: F): SqliteTransactionFn<F>;
}

interface Pending {
  statements: readonly SqlStatement[];
  resolve: (results: SqlResult[]) => void;
  reject: (error: unknown) => void;
}
type Outcome = { results: SqlResult[] } | { error: unknown };

export class AffectedRowsMismatch extends Error {}

export class PortableSql {
  private static readonly instances = new WeakMap<DataSource, PortableSql>();

  /** One per DataSource (statement caches live here). */
  static of(dataSource: DataSource): PortableSql {
    let sql = PortableSql.instances.get(dataSource);
    if (!sql) {
      sql = new PortableSql(dataSource);
      PortableSql.instances.set(dataSource, sql);
    }
    return sql;
  }

  readonly dialect: 'sqlite' | 'postgres';
  /** SQL text → prepared statement (SQLite), or → the `$n` text (PostgreSQL). Keys are the constants in the code. */
  private statements = new Map<string, SqliteStatement>();
  private readonly pgTexts = new Map<string, string>();
  /** The connection the prepared statements belong to. */
  private sqliteDb?: SqliteDatabase;
  private runSqliteOne?: (statements: readonly SqlStatement[]) => SqlResult[];
  private runSqliteGroup?: SqliteTransactionFn<(group: readonly Pending[]) => Outcome[]>;
  private queue: Pending[] = [];
  private flushScheduled = false;

  private constructor(private readonly dataSource: DataSource) {
    const type = dataSource.options.type;
    if (type === 'better-sqlite3') this.dialect = 'sqlite';
    else if (type === 'postgres') this.dialect = 'postgres';
    else throw new Error(`PortableSql does not support ${type}`);
  }

  /**
   * One statement, run at once: reads, and writes inside a TypeORM transaction. A write of its own should go
   * through transaction(), which commits it durably (and cheaply, see there).
   * Pass the EntityManager of a TypeORM transaction to run inside it (required on PostgreSQL, where
   * a transaction owns one pooled connection; SQLite has a single connection anyway).
   */
  async query<Row = Record<string, unknown>>(sql: string, params: readonly unknown[] = [], manager?: EntityManager): Promise<SqlResult<Row>> {
    if (this.dialect === 'sqlite') return this.runSqlite(sql, params) as SqlResult<Row>;
    return this.onPostgres(manager?.queryRunner, (runner) => this.runPostgres<Row>(runner, sql, params));
  }

  /**
   * Several statements in one transaction, all or nothing; one result per statement. Resolves once committed.
   *
   * On SQLite the transactions of one event-loop turn are committed together (group commit): one COMMIT, so one
   * fsync of the WAL, for the whole group instead of one each. Each keeps its own SAVEPOINT, so one that fails
   * (a lost compare-and-set, a constraint) is rolled back alone and only its caller sees the error. Nobody's
   * promise resolves before the COMMIT has returned, so what a caller was told is committed is durable as before.
   */
  async transaction(statements: readonly SqlStatement[]): Promise<SqlResult[]> {
    if (this.dialect === 'sqlite') {
      // Called from inside an open TypeORM transaction (which holds the one connection): run now, inside it, as a
      // SAVEPOINT. Waiting for the group would wait for that transaction to end, which waits for us.
      if (this.db().inTransaction) return this.runSqliteOne!(statements);
      return new Promise<SqlResult[]>((resolve, reject) => {
        this.queue.push({ statements, resolve, reject });
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(this.flush);
        }
      });
    }
    return this.onPostgres(undefined, async (runner) => {
      await runner.startTransaction();
      try {
        const results: SqlResult[] = [];
        for (const s of statements) results.push(checked(s, await this.runPostgres(runner, s.sql, s.params)));
        await runner.commitTransaction();
        return results;
      } catch (error) {
        await runner.rollbackTransaction().catch(() => undefined);
        throw error;
      }
    });
  }

  /** The live better-sqlite3 connection; statements prepared on an earlier one are dropped. */
  private db(): SqliteDatabase {
    const db = (this.dataSource.driver as unknown as { databaseConnection?: SqliteDatabase }).databaseConnection;
    if (!db) throw new Error('the database connection is not open');
    if (db !== this.sqliteDb) {
      this.sqliteDb = db;
      this.statements = new Map();
      // better-sqlite3's transaction() runs synchronously: nothing else on the event loop can slip a statement into
      // it or see it half done. Called inside another transaction() it becomes a SAVEPOINT (rolled back on a throw).
      const one = db.transaction((statements: readonly SqlStatement[]) => statements.map((s) => checked(s, this.runSqlite(s.sql, s.params))));
      this.runSqliteOne = one;
      this.runSqliteGroup = db.transaction((group: readonly Pending[]) =>
        group.map((item): Outcome => {
          try {
            return { results: one(item.statements) };
          } catch (error) {
            return { error };
          }
        }),
      );
    }
    return db;
  }

  private readonly flush = (): void => {
    let db: SqliteDatabase;
    try {
      db = this.db();
    } catch (error) {
      this.flushScheduled = false;
      for (const item of this.queue.splice(0)) item.reject(error);
      return;
    }
    // A TypeORM transaction waiting on I/O holds the one connection: never commit inside it (its rollback would
    // take these writes with it). Try again in a moment.
    if (db.inTransaction) {
      setTimeout(this.flush, 1);
      return;
    }
    this.flushScheduled = false;
    const group = this.queue;
    this.queue = [];
    let outcomes: Outcome[];
    try {
      // IMMEDIATE: take the write lock up front (waiting out the CLI's, up to the busy timeout) rather than fail
      // with SQLITE_BUSY half-way.
      outcomes = this.runSqliteGroup!.immediate(group);
    } catch (error) {
      for (const item of group) item.reject(error);
      return;
    }
    outcomes.forEach((outcome, i) => ('error' in outcome ? group[i]!.reject(outcome.error) : group[i]!.resolve(outcome.results)));
  };

  private runSqlite(sql: string, params: readonly unknown[]): SqlResult {
    const db = this.db();
    let stmt = this.statements.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      this.statements.set(sql, stmt);
    }
    const bound = params.map(sqliteValue);
    if (stmt.reader) {
      const rows = stmt.all(...bound);
      return { rows, affected: rows.length };
    }
    return { rows: [], affected: stmt.run(...bound).changes };
  }

  private async onPostgres<T>(given: QueryRunner | undefined, work: (runner: QueryRunner) => Promise<T>): Promise<T> {
    if (given) return work(given);
    const runner = this.dataSource.createQueryRunner();
    try {
      return await work(runner);
    } finally {
      await runner.release();
    }
  }

  private async runPostgres<Row>(runner: QueryRunner, sql: string, params: readonly unknown[]): Promise<SqlResult<Row>> {
    let text = this.pgTexts.get(sql);
    if (text === undefined) {
      let n = 0;
      text = sql.replace(/\?/g, () => `$${++n}`);
      this.pgTexts.set(sql, text);
    }
    const result = await runner.query(text, params.map((p) => (p === undefined ? null : p)), true);
    return { rows: (result.records ?? []) as Row[], affected: result.affected ?? result.records?.length ?? 0 };
  }
}

function sqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return value;
}

function checked(statement: SqlStatement, result: SqlResult): SqlResult {
  if (statement.expectAffected !== undefined && result.affected !== statement.expectAffected) {
    throw statement.onMismatch?.() ?? new AffectedRowsMismatch(`expected ${statement.expectAffected} changed rows, got ${result.affected}`);
  }
  return result;
}

/** Row values as JavaScript: PostgreSQL returns bigint as a string, SQLite booleans as 0/1. */
export const fromSql = {
  instant: (value: unknown): Date | null => (value === null || value === undefined ? null : new Date(Number(value))),
  number: (value: unknown): number => Number(value),
  boolean: (value: unknown): boolean => value === true || value === 1 || value === '1' || value === 't',
  json: <T>(value: unknown): T => JSON.parse(String(value)) as T,
};
