import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { SYSTEM_CONTEXT } from '@app/audit';
import { JobLeases } from '@app/persistence';
import { KeyStoreService } from './key-store.service';

const MAINTENANCE_INTERVAL_MS = 60 * 60 * 1000;

/** Checks hourly whether the active key is due for rotation and erases keys nobody can need any more. */
@Injectable()
export class KeyRotationScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('KeyRotation');

  constructor(
    private readonly keyStore: KeyStoreService,
    private readonly leases: JobLeases,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.keyStore.ensureKeys(SYSTEM_CONTEXT);
    await this.tick();
  }

  @Interval(MAINTENANCE_INTERVAL_MS)
  async tick(): Promise<void> {
    try {
      // Leased: with several instances, one of them maintains the keys per interval.
      await this.leases.runOnce('keys.maintain', MAINTENANCE_INTERVAL_MS, () => this.keyStore.maintain(SYSTEM_CONTEXT));
    } catch (error) {
      this.logger.error(`scheduled key maintenance failed: ${(error as Error).message}`);
    }
  }
}
