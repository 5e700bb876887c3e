import { Controller, Get, Inject, Res, ServiceUnavailableException } from '@nestjs/common';
import type { Response } from 'express';
import { ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { LIMIT_STORE, LimitStore } from '@app/limits';
import { KeyStoreService } from '@app/tokens';
import { OidcRelyingParty } from '@app/federation';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicators: HealthIndicatorService,
    private readonly keyStore: KeyStoreService,
    @Inject(LIMIT_STORE) private readonly limits: LimitStore,
    private readonly identityProvider: OidcRelyingParty,
  ) {}

  /** Liveness: the process answers. */
  @Get('healthz')
  live() {
    return { status: 'ok' };
  }

  /**
   * Readiness: the database answers, and the keys that sign now and next can be decrypted with this instance's
   * KEY_ENCRYPTION_KEY (otherwise no token can be issued: take the instance out of rotation and say why). The
   * limits' store and the identity provider's discovery are reported, never a reason to be unready: without Redis the
   * database counts (see libs/limits); without the provider, passkeys still work.
   */
  @Get('readyz')
  @HealthCheck()
  async ready(@Res({ passthrough: true }) res: Response) {
    try {
      return await this.health.check([
        () => this.db.pingCheck('database', { timeout: 2000 }),
        () => this.signingKeys(),
        () => this.limitStore(),
        () => this.provider(),
      ]);
    } catch (error) {
      // Terminus reports "down" as an exception carrying the per-check result; answer it as is (with the reasons)
      // instead of letting the error filter flatten it into a bare "Service Unavailable".
      if (!(error instanceof ServiceUnavailableException)) throw error;
      res.status(503);
      return error.getResponse();
    }
  }

  private async signingKeys() {
    const check = this.indicators.check('signingKeys');
    const unreadable = await this.keyStore.unreadableKeys();
    if (unreadable.length === 0) return check.up();
    return check.down({
      reason: `cannot decrypt ${unreadable.join(', ')}: KEY_ENCRYPTION_KEY is not the key they were stored with`,
    });
  }

  /** Sign-in through the organisation's provider: reported (off, pending, ok, failed with why), never unready. */
  private provider() {
    return this.indicators.check('identityProvider').up({ ...this.identityProvider.health() });
  }

  private limitStore() {
    return this.indicators.check('limits').up({ ...this.limits.health() });
  }
}
