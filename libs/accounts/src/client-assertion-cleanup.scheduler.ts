import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { JobLeases } from '@app/persistence';
import { ServiceAccountsService } from './service-accounts.service';

const CLEANUP_INTERVAL_MS = 5 * 60 * 1000;

/** Used client assertions past their exp are refused as expired anyway; this only keeps the table small. */
@Injectable()
export class ClientAssertionCleanupScheduler {
  private readonly logger = new Logger('ClientAssertionCleanup');

  constructor(
    private readonly accounts: ServiceAccountsService,
    private readonly leases: JobLeases,
  ) {}

  @Interval(CLEANUP_INTERVAL_MS)
  async purge(): Promise<void> {
    try {
      // Leased: with several instances, one of them cleans up per interval.
      await this.leases.runOnce('client-assertions.purge', CLEANUP_INTERVAL_MS, async () => {
        const removed = await this.accounts.purgeUsedAssertions();
        if (removed) this.logger.debug(`removed ${removed} expired client assertions`);
      });
    } catch (error) {
      this.logger.error(`client assertion cleanup failed: ${(error as Error).message}`);
    }
  }
}
