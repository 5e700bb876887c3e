import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { UnitOfWork } from '@app/persistence';
import { ChallengeStoreService } from './challenge-store.service';

/** Expired challenges are useless (usable() refuses them); this only keeps the table small. */
@Injectable()
export class ChallengeCleanupScheduler {
  private readonly logger = new Logger('ChallengeCleanup');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly challenges: ChallengeStoreService,
  ) {}

  @Interval(5 * 60 * 1000)
  async purge(): Promise<void> {
    try {
      const removed = await this.uow.run((tx) => this.challenges.purgeExpired(tx));
      if (removed) this.logger.debug(`removed ${removed} expired challenges`);
    } catch (error) {
      this.logger.error(`challenge cleanup failed: ${(error as Error).message}`);
    }
  }
}
