import { Body, Controller, Delete, Get, Header, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { DelegationsService } from '@app/delegations';
import { AppError, ErrorCode } from '@app/errors';
import { StepUpPolicy } from '@app/principals';
import { Audit } from '../http/audit-context.decorator';
import { BearerGuard } from '../http/bearer.guard';
import type { Principal } from '../http/principal';
import { DelegatedGrants } from '../sign-in/delegated-grants';
import { ApproveDelegationRequest, delegationView, DelegationView } from './delegation-views';
import { CurrentPrincipal } from './principal.decorator';

function personOf(principal: Principal): string {
  if (principal.kind !== 'user') throw new AppError(ErrorCode.Forbidden, 'only a person delegates to agents');
  return principal.id;
}

/** Self-service: "Agents acting for you" — approve an agent, see what acts for me, revoke it. */
@ApiTags('me')
@ApiBearerAuth()
@UseGuards(BearerGuard)
@Controller('v1/me/delegations')
export class MyDelegationsController {
  constructor(
    private readonly delegations: DelegationsService,
    private readonly grants: DelegatedGrants,
    private readonly stepUp: StepUpPolicy,
  ) {}

  @Post()
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Let an agent act for me within a dag: scope (needs a fresh, user-verified passkey sign-in). The answer carries ' +
      "the agent's first refresh token, shown once: it works only with the agent's own client authentication",
  })
  async approve(
    @CurrentPrincipal() principal: Principal,
    @Body() body: ApproveDelegationRequest,
    @Audit() audit: AuditContext,
  ) {
    const userId = personOf(principal);
    this.stepUp.requireFreshVerifiedSignIn(principal, 'letting an agent act for you');
    const passkeyId = principal.token.passkey_id;
    if (typeof passkeyId !== 'string')
      throw new AppError(ErrorCode.StepUpRequired, 'confirm with your passkey first', 'step_up_without_passkey');
    const { holders, refreshToken } = await this.grants.approve(audit, {
      userId,
      passkeyId,
      agent: body.agent,
      scope: body.scope,
      days: body.days,
    });
    return { delegation: delegationView(holders, this.delegations.now()), refresh_token: refreshToken };
  }

  @Get()
  @ApiOperation({ summary: 'Agents acting for me (ended ones included, with why)' })
  @ApiOkResponse({ type: [DelegationView] })
  async list(@CurrentPrincipal() principal: Principal) {
    const now = this.delegations.now();
    return (await this.delegations.forUser(personOf(principal))).map((h) => delegationView(h, now));
  }

  @Delete(':id')
  @ApiOperation({
    summary: "Revoke an agent's delegation (and its sub-agents'): Airflow refuses it at its next re-check",
  })
  @ApiOkResponse({ type: DelegationView })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Audit() audit: AuditContext) {
    const userId = personOf(principal);
    const holders = await this.delegations.revoke(audit, id, { userId, who: `user:${principal.name}` });
    return delegationView(holders, this.delegations.now());
  }
}
