import { DynamicModule, Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DataSource } from 'typeorm';
import { dataSourceOptions, EntityList } from './data-source-options';
import { runMigrationsExclusively } from './run-migrations';
import { UnitOfWork } from './unit-of-work';
import { JobLeases } from './job-leases';

/** The database connection and the one UnitOfWork every module runs its transactions through. */
@Global()
@Module({})
export class PersistenceModule {
  /** Connects and brings the schema up to date before anything else starts. */
  /** @param retryAttempts connection attempts after the first (3 s apart); the CLI uses 0 so it fails fast. */
  static forRoot(entities: EntityList, { retryAttempts = 3 }: { retryAttempts?: number } = {}): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            ...dataSourceOptions(config, entities),
            retryAttempts,
            retryDelay: 3000,
          }),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await runMigrationsExclusively(dataSource);
            return dataSource;
          },
        }),
      ],
      providers: [
        {
          provide: UnitOfWork,
          inject: [DataSource],
          useFactory: (dataSource: DataSource) => new UnitOfWork(dataSource),
        },
        { provide: JobLeases, inject: [UnitOfWork], useFactory: (uow: UnitOfWork) => new JobLeases(uow) },
      ],
      exports: [UnitOfWork, JobLeases],
    };
  }
}
