import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '@app/config';
import { LIMIT_STORE, LimitStore } from './limit-store';

/** Forgets ended windows, so the table holds only the buckets of the last few minutes. */
@Injectable()
export class LimitsSweepScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('Limits');

  constructor(
    @Inject(LIMIT_STORE) private readonly store: LimitStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const where = this.config.limits.redisUrl ? 'in the database (REDIS_URL is set, but this build has no Redis store yet)' : 'in the database';
    this.logger.log(this.config.limits.enabled ? `rate limits shared by every instance, counted ${where}` : 'rate limits are OFF (RATE_LIMIT_PER_MINUTE=0)');
  }

  @Interval(5 * 60_000)
  async sweep(): Promise<void> {
    try {
      await this.store.sweep(Date.now());
    } catch (error) {
      this.logger.error(`sweeping ended rate-limit windows failed: ${(error as Error).message}`);
    }
  }
}
