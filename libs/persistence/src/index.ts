export { InstantColumn, BigCounterColumn, JsonTextColumn } from './columns';
export { dataSourceOptions, EntityList } from './data-source-options';
export { PersistenceModule } from './persistence.module';
export { MIGRATIONS } from './migrations';
export { isUniqueViolation } from './unique-violation';
export { PortableSql, SqlResult, SqlStatement, AffectedRowsMismatch, fromSql } from './portable-sql';
