import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AuditChainService } from './audit-chain.service';
import { CheckpointKeys } from './audit-checkpoint';
import { SignedHead } from './audit-head';

/**
 * Writes the signed chain head to the service's log every AUDIT_HEAD_LOG_SECONDS, so that log shipping keeps copies
 * outside the database (see audit-head.ts). Only when the chain moved since this instance last wrote one: an idle
 * service does not repeat itself, and the last line written still describes the trail. Every instance writes its
 * own (more copies, no lease needed).
 */
@Injectable()
export class AuditHeadLogger implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('AuditHead');
  private timer: NodeJS.Timeout | undefined;
  private lastLogged: string | null = null;

  constructor(
    private readonly chain: AuditChainService,
    private readonly keys: CheckpointKeys,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.logHead(), this.config.auditHeadLogSeconds * 1000);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Logs the signed head when it moved; returns what was logged (null: unchanged, or it could not be signed). */
  async logHead(now = new Date()): Promise<SignedHead | null> {
    try {
      const { seq, hash } = await this.chain.head();
      if (this.lastLogged === `${seq}:${hash}`) return null;
      const head = await this.chain.signedHead(this.keys, now);
      this.lastLogged = `${head.seq}:${head.hash}`;
      // One line, the head's JSON as `audit verify --head FILE` reads it (copy the JSON after "audit head ").
      this.logger.log(`audit head ${JSON.stringify(head)}`);
      return head;
    } catch (error) {
      this.logger.error(`writing the signed audit head failed: ${(error as Error).message}`);
      return null;
    }
  }
}
