import { Inject, Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { LIMIT_STORE, LimitStore } from './limit-store';

/** Forgets ended windows, so the table holds only the buckets of the last few minutes. */
@Injectable()
export class LimitsSweepScheduler {
  private readonly logger = new Logger('Limits');

  constructor(@Inject(LIMIT_STORE) private readonly store: LimitStore) {}

  @Interval(5 * 60_000)
  async sweep(): Promise<void> {
    try {
      await this.store.sweep(Date.now());
    } catch (error) {
      this.logger.error(`sweeping ended rate-limit windows failed: ${(error as Error).message}`);
    }
  }
}
