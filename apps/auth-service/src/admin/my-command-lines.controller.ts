import { Controller, Delete, Get, Header, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { CliCodesService } from '@app/cli-sign-in';
import { AppError, ErrorCode } from '@app/errors';
import { StepUpPolicy } from '@app/principals';
import { CLOCK, Clock } from '@app/config';
import { Audit } from '../http/audit-context.decorator';
import { BearerGuard } from '../http/bearer.guard';
import type { Principal } from '../http/principal';
import { CurrentPrincipal } from './principal.decorator';
import { CliSignInView } from './user-views';
import { cliSignInView } from './views';

/** A person's id from their own login token; a service account signs its command lines in with its own secret. */
function personOf(principal: Principal): string {
  if (principal.kind !== 'user')
    throw new AppError(ErrorCode.Forbidden, 'only a signed-in person signs command lines in with a one-time code');
  return principal.id;
}

/** Self-service: one-time codes that sign a command line (airflowctl) in as me, and the command lines signed in. */
@ApiTags('me')
@ApiBearerAuth()
@UseGuards(BearerGuard)
@Controller('v1/me/cli-codes')
export class MyCommandLinesController {
  constructor(
    private readonly codes: CliCodesService,
    private readonly stepUp: StepUpPolicy,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  @HttpCode(201)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Create a one-time CLI code (needs a fresh, user-verified passkey sign-in); the code is shown only in this answer',
  })
  async create(@CurrentPrincipal() principal: Principal, @Audit() audit: AuditContext) {
    const userId = personOf(principal);
    // A code is a new way into the account: like adding a passkey, it needs the person, not just an open session.
    this.stepUp.requireFreshVerifiedSignIn(principal, 'signing a command line in');
    const passkeyId = principal.token.passkey_id;
    if (typeof passkeyId !== 'string')
      throw new AppError(ErrorCode.StepUpRequired, 'confirm with your passkey first', 'step_up_without_passkey');
    const created = await this.codes.create(audit, { userId, passkeyId });
    return { id: created.id, code: created.code, expiresAt: created.expiresAt.toISOString() };
  }

  @Get()
  @ApiOperation({ summary: 'My pending codes and the command lines signed in with one' })
  @ApiOkResponse({ type: [CliSignInView] })
  async list(@CurrentPrincipal() principal: Principal) {
    const now = this.clock.now();
    return (await this.codes.list(personOf(principal))).map((row) => cliSignInView(row, now));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a pending code, or sign a command line out (its next re-check by Airflow fails)' })
  @ApiOkResponse({ type: CliSignInView })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Audit() audit: AuditContext) {
    return cliSignInView(await this.codes.revoke(audit, personOf(principal), id), this.clock.now());
  }
}
