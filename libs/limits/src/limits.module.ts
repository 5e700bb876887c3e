import { Module } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AccountsModule } from '@app/accounts';
import { TokensModule } from '@app/tokens';
import { connectRedis, FailoverLimitStore } from './failover-limit-store';
import { LIMIT_STORE, LimitStore } from './limit-store';
import { LimitsMiddleware } from './limits.middleware';
import { LimitsSweepScheduler } from './limits-sweep.scheduler';
import { SqlLimitStore } from './sql-limit-store';

/**
 * Rate limits shared by every instance: counters in the database, or in Redis when REDIS_URL is set (with the
 * database as the fallback while Redis does not answer). Apply LimitsMiddleware to the routes.
 */
@Module({
  imports: [TokensModule, AccountsModule],
  providers: [
    SqlLimitStore,
    {
      provide: LIMIT_STORE,
      inject: [APP_CONFIG, SqlLimitStore],
      useFactory: (config: AppConfig, database: SqlLimitStore): LimitStore => {
        const { enabled, redisUrl, redisKeyPrefix } = config.limits;
        // Nest runs the returned store's lifecycle hooks (connect at start-up, close the client on shutdown).
        return enabled && redisUrl
          ? new FailoverLimitStore(connectRedis(redisUrl), redisUrl, redisKeyPrefix, database)
          : database;
      },
    },
    LimitsMiddleware,
    LimitsSweepScheduler,
  ],
  exports: [LIMIT_STORE, LimitsMiddleware],
})
export class LimitsModule {}
