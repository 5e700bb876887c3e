import type { DataSource, EntityMetadata, EntityTarget, ObjectLiteral } from 'typeorm';
import type { ColumnMetadata } from 'typeorm/metadata/ColumnMetadata';

/*
 * Row ↔ entity mapping for repositories that write their own SQL, through the entity's column metadata and the
 * driver's own conversions: the transforms declared once in columns.ts (epoch-ms instants, bigint counters, JSON
 * text) and the dialect's types (SQLite's 0/1 booleans, PostgreSQL's bigint strings) apply exactly as they do for
 * TypeORM's repository API. A repository never converts a column value by hand.
 */
export class EntityRows<T extends ObjectLiteral> {
  private readonly metadata: EntityMetadata;
  private readonly columns: readonly ColumnMetadata[];
  private readonly byProperty = new Map<string, ColumnMetadata>();
  private readonly insertSql: string;

  constructor(
    private readonly dataSource: DataSource,
    target: EntityTarget<T>,
  ) {
    this.metadata = dataSource.getMetadata(target);
    this.columns = this.metadata.columns;
    for (const column of this.columns) this.byProperty.set(column.propertyName, column);
    const names = this.columns.map((c) => c.databaseName);
    this.insertSql = `INSERT INTO ${this.metadata.tableName} (${names.join(', ')}) VALUES (${names.map(() => '?').join(', ')})`;
  }

  /** The statement inserting `entity` as one row, every column of the entity bound: `tx.query(...rows.insert(e))`. */
  insert(entity: Partial<T>): [sql: string, params: unknown[]] {
    return [
      this.insertSql,
      this.columns.map((c): unknown =>
        this.dataSource.driver.preparePersistentValue(entity[c.propertyName] ?? null, c),
      ),
    ];
  }

  /**
   * The entity for a row keyed by column names (`prefix` + database name, e.g. `u_id` for a joined table selected
   * as `u.id AS u_id`). Columns absent from the row are left unset, so a query may select only what it needs.
   */
  fromRow(row: Record<string, unknown>, prefix = ''): T {
    const entity = this.metadata.create() as T;
    for (const column of this.columns) {
      const key = prefix + column.databaseName;
      if (key in row)
        (entity as Record<string, unknown>)[column.propertyName] = this.dataSource.driver.prepareHydratedValue(
          row[key],
          column,
        );
    }
    return entity;
  }

  /** A property's value as the database stores it: bind this, not the raw JavaScript value. */
  param<K extends keyof T & string>(property: K, value: T[K] | null): unknown {
    const column = this.byProperty.get(property);
    if (!column) throw new Error(`${String(property)} is not a column`);
    return this.dataSource.driver.preparePersistentValue(value, column);
  }

  /** The values of `properties` of `entity`, in that order, as bind parameters. */
  params<K extends keyof T & string>(entity: Partial<T>, properties: readonly K[]): unknown[] {
    return properties.map((p) => this.param(p, entity[p] ?? null));
  }
}
