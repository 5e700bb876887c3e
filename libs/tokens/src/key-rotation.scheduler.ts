import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { SYSTEM_CONTEXT } from '@app/audit';
import { KeyStoreService } from './key-store.service';

/** Checks hourly whether the active key is due for rotation and erases keys nobody can need any more. */
@Injectable()
export class KeyRotationScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('KeyRotation');

  constructor(private readonly keyStore: KeyStoreService) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.keyStore.ensureKeys(SYSTEM_CONTEXT);
    await this.tick();
  }

  @Interval(60 * 60 * 1000)
  async tick(): Promise<void> {
    try {
      await this.keyStore.maintain(SYSTEM_CONTEXT);
    } catch (error) {
      this.logger.error(`scheduled key maintenance failed: ${(error as Error).message}`);
    }
  }
}
