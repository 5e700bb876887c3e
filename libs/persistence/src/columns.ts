import { Column, ColumnOptions, ValueTransformer } from 'typeorm';

/*
 * Column helpers that keep one entity model and one migration set valid on both SQLite and PostgreSQL:
 * instants are stored as epoch milliseconds (bigint) so neither dialect's time-zone handling applies, and
 * lists are stored as JSON text.
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

export function InstantColumn(options: Omit<ColumnOptions, 'type' | 'transformer'> = {}): PropertyDecorator {
  return Column({ ...options, type: 'bigint', transformer: epochMs });
}

export function BigCounterColumn(options: Omit<ColumnOptions, 'type' | 'transformer'> = {}): PropertyDecorator {
  return Column({ ...options, type: 'bigint', transformer: bigintNumber });
}

export function JsonTextColumn(options: Omit<ColumnOptions, 'type'> = {}): PropertyDecorator {
  return Column({ ...options, type: 'simple-json' });
}
