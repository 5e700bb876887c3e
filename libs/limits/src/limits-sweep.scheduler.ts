import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '@app/config';
import { JobLeases } from '@app/persistence';
import { LIMIT_STORE, LimitStore } from './limit-store';

const SWEEP_INTERVAL_MS = 5 * 60_000;

/** Forgets ended windows, so the table holds only the buckets of the last few minutes (Redis keys expire on their own). */
@Injectable()
export class LimitsSweepScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('Limits');

  constructor(
    @Inject(LIMIT_STORE) private readonly store: LimitStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly leases: JobLeases,
  ) {}

  onApplicationBootstrap(): void {
    const where = this.config.limits.redisUrl
      ? 'in Redis (REDIS_URL; in the database while Redis does not answer)'
      : 'in the database';
    this.logger.log(
      this.config.limits.enabled
        ? `rate limits shared by every instance, counted ${where}`
        : 'rate limits are OFF (RATE_LIMIT_PER_MINUTE=0)',
    );
  }

  @Interval(SWEEP_INTERVAL_MS)
  async sweep(): Promise<void> {
    try {
      // Leased: with several instances, one of them sweeps per interval.
      await this.leases.runOnce('limits.sweep', SWEEP_INTERVAL_MS, () => this.store.sweep(Date.now()));
    } catch (error) {
      this.logger.error(`sweeping ended rate-limit windows failed: ${(error as Error).message}`);
    }
  }
}
