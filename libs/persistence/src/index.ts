export {
  IdColumn,
  IdRefColumn,
  VarcharColumn,
  InstantColumn,
  BigCounterColumn,
  JsonTextColumn,
  SnakeCaseColumns,
} from './columns';
export { dataSourceOptions, EntityList } from './data-source-options';
export { PersistenceModule } from './persistence.module';
export { MIGRATIONS } from './migrations';
export { isUniqueViolation } from './unique-violation';
export { UnitOfWork, Tx, SqlResult, Dialect } from './unit-of-work';
export { EntityRows } from './entity-rows';
export { ExpiringRows, UsedTokenRows, SingleUseRows } from './single-use-rows';
export { JobLeases } from './job-leases';
