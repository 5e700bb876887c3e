import { Injectable, Logger } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { UnitOfWork } from '@app/persistence';
import { FederationService } from './federation.service';

/**
 * Expired provider sign-ins are useless (finish refuses them), and so are expired provider sessions (sid) and used
 * logout tokens too old to be accepted again; this only keeps those tables small.
 */
@Injectable()
export class OidcFlowCleanupScheduler {
  private readonly logger = new Logger('OidcFlowCleanup');

  constructor(
    private readonly uow: UnitOfWork,
    private readonly federation: FederationService,
  ) {}

  @Interval(5 * 60 * 1000)
  async purge(): Promise<void> {
    try {
      const removed = await this.uow.run((tx) => this.federation.purgeExpired(tx));
      if (removed)
        this.logger.debug(`removed ${removed} expired provider sign-ins, provider sessions and used logout tokens`);
    } catch (error) {
      this.logger.error(`provider sign-in cleanup failed: ${(error as Error).message}`);
    }
  }
}
