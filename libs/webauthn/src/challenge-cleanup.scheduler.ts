import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { JobLeases, UnitOfWork } from '@app/persistence';
import { ChallengeStoreService } from './challenge-store.service';

const CLEANUP_INTERVAL_MS = 5 * 60 * 1000;

/** Expired challenges are useless (usable() refuses them); this only keeps the table small. */
@Injectable()
export class ChallengeCleanupScheduler {
  private readonly logger = new Logger('ChallengeCleanup');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly challenges: ChallengeStoreService,
    private readonly leases: JobLeases,
  ) {}

  @Interval(CLEANUP_INTERVAL_MS)
  async purge(): Promise<void> {
    try {
      // Leased: with several instances, one of them cleans up per interval.
      await this.leases.runOnce('challenges.purge', CLEANUP_INTERVAL_MS, async () => {
        const removed = await this.uow.run((tx) => this.challenges.purgeExpired(tx));
        if (removed) this.logger.debug(`removed ${removed} expired challenges`);
      });
    } catch (error) {
      this.logger.error(`challenge cleanup failed: ${(error as Error).message}`);
    }
  }
}
