import { Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { Interval } from '@nestjs/schedule';
import { AuditContext } from '@app/audit';
import { JobLeases } from '@app/persistence';
import { AuthenticatorPolicyService } from './authenticator-policy.service';

const SWEEP_INTERVAL_MS = 60 * 60 * 1000;
const CONTEXT: AuditContext = { actorType: 'system', actorId: 'authenticator-policy' };

/**
 * Evaluates stored passkeys against the policy at start-up (a tightened AUTHENTICATOR_POLICY starts everyone's grace
 * period at once, not at their next sign-in) and hourly (groups changed by an admin or a provider). Each sign-in
 * evaluates its own passkey again from current state, so the sweep only starts clocks earlier; it never lets in.
 */
@Injectable()
export class AuthenticatorPolicyScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger('AuthenticatorPolicy');

  constructor(
    private readonly policy: AuthenticatorPolicyService,
    private readonly leases: JobLeases,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.run();
  }

  @Interval(SWEEP_INTERVAL_MS)
  async sweep(): Promise<void> {
    try {
      await this.leases.runOnce('authenticator-policy.sweep', SWEEP_INTERVAL_MS, () => this.run());
    } catch (error) {
      this.logger.error(`authenticator policy sweep failed: ${(error as Error).message}`);
    }
  }

  private async run(): Promise<void> {
    if (!this.policy.configured) return;
    const { marked, cleared } = await this.policy.sweep(CONTEXT);
    if (marked || cleared) this.logger.log(`passkeys no longer allowed: ${marked} marked, ${cleared} allowed again`);
  }
}
