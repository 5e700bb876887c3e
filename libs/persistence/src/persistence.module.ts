import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { DataSource } from 'typeorm';
import { dataSourceOptions, EntityList } from './data-source-options';

@Module({})
export class PersistenceModule {
  /** Connects and brings the schema up to date before anything else starts. */
  static forRoot(entities: EntityList): DynamicModule {
    return {
      module: PersistenceModule,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => dataSourceOptions(config, entities),
          dataSourceFactory: async (options) => {
            const dataSource = await new DataSource(options!).initialize();
            await dataSource.runMigrations({ transaction: 'each' });
            return dataSource;
          },
        }),
      ],
    };
  }
}
