import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { APP_CONFIG, AppConfig } from '@app/config';
import { JobLeases } from '@app/persistence';
import { AuditService } from './audit.service';
import { CheckpointKeys } from './audit-checkpoint';

const FLUSH_INTERVAL_MS = 60_000;
const PRUNE_INTERVAL_MS = 60 * 60_000;

/**
 * Keeps the trail bounded: writes the summaries of ended failure windows every minute and prunes events past
 * AUDIT_RETENTION_DAYS every hour (recording what it pruned, signed). Each run is leased, so with several instances it
 * happens once per interval.
 */
@Injectable()
export class AuditMaintenanceScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('AuditMaintenance');

  constructor(
    private readonly audit: AuditService,
    private readonly leases: JobLeases,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: CheckpointKeys,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.prune();
  }

  @Interval(FLUSH_INTERVAL_MS)
  async flush(): Promise<void> {
    try {
      await this.leases.runOnce('audit.flush-failure-windows', FLUSH_INTERVAL_MS, () => this.audit.flushEndedWindows());
    } catch (error) {
      this.logger.error(`writing audit failure summaries failed: ${(error as Error).message}`);
    }
  }

  @Interval(PRUNE_INTERVAL_MS)
  async prune(): Promise<void> {
    try {
      await this.leases.runOnce('audit.prune', PRUNE_INTERVAL_MS, async () => {
        const pruned = await this.audit.prune(this.config.auditRetentionDays, this.keys);
        if (pruned)
          this.logger.log(
            `pruned ${pruned.deleted} audit events older than ${pruned.before} (through position ${pruned.throughSeq})`,
          );
      });
    } catch (error) {
      this.logger.error(`pruning the audit trail failed: ${(error as Error).message}`);
    }
  }
}
