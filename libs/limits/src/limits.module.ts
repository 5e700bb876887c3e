import { Module } from '@nestjs/common';
import { TokensModule } from '@app/tokens';
import { LIMIT_STORE } from './limit-store';
import { LimitsMiddleware } from './limits.middleware';
import { LimitsSweepScheduler } from './limits-sweep.scheduler';
import { SqlLimitStore } from './sql-limit-store';

/** Rate limits shared by every instance (counters in the database). Apply LimitsMiddleware to the routes. */
@Module({
  imports: [TokensModule],
  providers: [{ provide: LIMIT_STORE, useClass: SqlLimitStore }, LimitsMiddleware, LimitsSweepScheduler],
  exports: [LIMIT_STORE, LimitsMiddleware],
})
export class LimitsModule {}
