import { Column, ColumnOptions, DefaultNamingStrategy, PrimaryColumn, ValueTransformer } from 'typeorm';

/*
 * Column helpers that keep one entity model and one migration set valid on both SQLite and PostgreSQL:
 * instants are stored as epoch milliseconds (bigint) so neither dialect's time-zone handling applies, and
 * lists are stored as JSON text. Each kind of column is declared one way, here; an entity says only what differs
 * (length, nullable, unique). Column names come from SnakeCaseColumns below, so an entity names none.
 */

const epochMs: ValueTransformer = {
  to: (value: Date | null | undefined) => (value == null ? value : value.getTime()),
  // PostgreSQL returns bigint as a string; SQLite returns a number.
  from: (value: string | number | null) => (value == null ? null : new Date(Number(value))),
};

const bigintNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value == null ? null : Number(value)),
};

type Options = Pick<ColumnOptions, 'nullable' | 'unique'>;

/** A row's own id: a UUID string (varchar(36) on both databases, so ids compare the same everywhere). */
export function IdColumn(): PropertyDecorator {
  return PrimaryColumn({ type: 'varchar', length: 36 });
}

/** The id of a row in another table (see IdColumn). */
export function IdRefColumn(options: Options = {}): PropertyDecorator {
  return Column({ ...options, type: 'varchar', length: 36 });
}

/** Bounded text. */
export function VarcharColumn(length: number, options: Options = {}): PropertyDecorator {
  return Column({ ...options, type: 'varchar', length });
}

export function InstantColumn(options: Options = {}): PropertyDecorator {
  return Column({ ...options, type: 'bigint', transformer: epochMs });
}

export function BigCounterColumn(options: Options = {}): PropertyDecorator {
  return Column({ ...options, type: 'bigint', transformer: bigintNumber });
}

export function JsonTextColumn(options: Options = {}): PropertyDecorator {
  return Column({ ...options, type: 'simple-json' });
}

/**
 * The migrations name columns in snake_case (`created_at`); entities name properties in camelCase (`createdAt`).
 * This is the one rule between the two, so no entity spells a column name by hand.
 */
export class SnakeCaseColumns extends DefaultNamingStrategy {
  override columnName(propertyName: string, customName: string | undefined, embeddedPrefixes: string[]): string {
    return customName ?? [...embeddedPrefixes, propertyName].join('_').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  }
}
