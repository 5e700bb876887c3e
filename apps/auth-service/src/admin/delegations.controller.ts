import { Delete, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { ServiceAccountsService, UsersService } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { DelegationsService } from '@app/delegations';
import { Audit } from '../http/audit-context.decorator';
import { StatusRead } from '../http/bearer.guard';
import type { Principal } from '../http/principal';
import { AdminController } from './admin-controller.decorator';
import { delegationView, DelegationView } from './delegation-views';
import { CurrentPrincipal } from './principal.decorator';

/** Agents acting for people: per person, per agent, every unrevoked one; Airflow's status read; revocation. */
@AdminController('delegations')
export class AdminDelegationsController {
  constructor(
    private readonly delegations: DelegationsService,
    private readonly users: UsersService,
    private readonly accounts: ServiceAccountsService,
  ) {}

  @Get()
  @ApiOperation({
    summary:
      'Delegations of one person (user=) or one agent (agent=), ended ones included; neither: every unrevoked one',
  })
  @ApiQuery({ name: 'user', required: false, description: 'user id or username' })
  @ApiQuery({ name: 'agent', required: false, description: 'agent id, client id or name' })
  @ApiOkResponse({ type: [DelegationView] })
  async list(@Query('user') user?: string, @Query('agent') agent?: string) {
    const now = this.delegations.now();
    const rows =
      typeof user === 'string' && user
        ? await this.delegations.forUser((await this.users.resolve(user)).id)
        : typeof agent === 'string' && agent
          ? await this.delegations.forAgent((await this.accounts.resolve(agent)).id)
          : await this.delegations.unrevoked();
    const refreshed = await this.delegations.lastRefreshed(rows.map((h) => h.delegation.id));
    return rows.map((h) => ({
      ...delegationView(h, now),
      lastRefreshedAt: refreshed.get(h.delegation.id)?.toISOString() ?? null,
    }));
  }

  @Get(':id')
  @StatusRead()
  @ApiOperation({
    summary:
      'One delegation as it is now: what Airflow re-checks (state live only while the person, the agent, the ' +
      'approving passkey and any parent delegation are)',
  })
  @ApiOkResponse({ type: DelegationView })
  async get(@Param('id') id: string) {
    return delegationView(await this.delegations.find(id), this.delegations.now());
  }

  @Delete(':id')
  @ApiOperation({ summary: "Revoke a delegation (and its sub-agents'), audited with the admin as actor" })
  @ApiOkResponse({ type: DelegationView })
  async revoke(@Param('id') id: string, @CurrentPrincipal() principal: Principal, @Audit() audit: AuditContext) {
    const holders = await this.delegations.revoke(audit, id, { who: `${principal.kind}:${principal.name}` });
    return delegationView(holders, this.delegations.now());
  }
}
