import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiTags, PickType } from '@nestjs/swagger';
import { AuditContext } from '@app/audit';
import { APP_CONFIG, AppConfig } from '@app/config';
import {
  DeviceAuthorization,
  DeviceAuthorizationsService,
  DeviceRequestState,
  displayUserCode,
} from '@app/cli-sign-in';
import { AppError, ErrorCode } from '@app/errors';
import { StepUpPolicy } from '@app/principals';
import { Audit } from '../http/audit-context.decorator';
import { BearerGuard } from '../http/bearer.guard';
import type { Principal } from '../http/principal';
import { ApproveDelegationRequest } from './delegation-views';
import { CurrentPrincipal } from './principal.decorator';

/** What the approval page shows a person before they approve: who asks, for what, from where and when. */
export class DeviceRequestView {
  @ApiProperty({ example: 'BCDF-GHJK' }) userCode: string;
  @ApiProperty() clientId: string;
  @ApiProperty() clientName: string;
  @ApiProperty({ enum: ['command_line', 'agent'] }) kind: string;
  @ApiProperty({ type: String, nullable: true, description: 'space-separated scopes asked for; none: your own access' })
  scope: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'address the request came from' })
  requestedFrom: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
  @ApiProperty({ type: String, format: 'date-time' }) requestedAt: string;
  @ApiProperty({ type: String, format: 'date-time' }) expiresAt: string;
  @ApiProperty({ enum: ['pending', 'approved', 'denied', 'expired'] }) state: string;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "an agent's request: the most days it may be approved for",
  })
  maxDays: number | null;
  @ApiProperty({
    type: Number,
    nullable: true,
    description: "an approved agent's request: the days it was approved for",
  })
  days: number | null;
}

/** Approving an agent's request: for how long (a command line's request takes no days); validated as a grant's. */
export class ApproveDeviceRequest extends PickType(ApproveDelegationRequest, ['days'] as const) {}

function deviceRequestView(
  request: DeviceAuthorization,
  state: DeviceRequestState,
  maxDays: number,
): DeviceRequestView {
  const agent = request.clientKind === 'agent';
  return {
    userCode: displayUserCode(request.userCode),
    clientId: request.clientId,
    clientName: request.clientName,
    kind: request.clientKind,
    scope: request.scope,
    requestedFrom: request.requestedFrom,
    userAgent: request.userAgent,
    requestedAt: request.requestedAt.toISOString(),
    expiresAt: request.expiresAt.toISOString(),
    state,
    maxDays: agent ? maxDays : null,
    days: request.days,
  };
}

/** A person's id from their own login token: a device request signs a command line in as a person. */
function personOf(principal: Principal): string {
  if (principal.kind !== 'user')
    throw new AppError(ErrorCode.Forbidden, 'only a signed-in person approves or denies a device sign-in request');
  return principal.id;
}

const USER_CODE_PARAM = { name: 'userCode', description: 'the code the command line shows (XXXX-XXXX)' };

/**
 * Self-service: a sign-in request (RFC 8628) a person started on a command line, found by its user code, approved
 * with a fresh passkey confirmation or denied. Lookups are limited per person and address (libs/limits): a user
 * code is short, so guessing one must stop long before it could find someone else's request.
 */
@ApiTags('me')
@ApiBearerAuth()
@UseGuards(BearerGuard)
@Controller('v1/me/device-requests')
export class MyDeviceRequestsController {
  constructor(
    private readonly devices: DeviceAuthorizationsService,
    private readonly stepUp: StepUpPolicy,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private view({ request, state }: { request: DeviceAuthorization; state: DeviceRequestState }) {
    return deviceRequestView(request, state, this.config.delegationMaxDays);
  }

  @Get(':userCode')
  @Header('Cache-Control', 'no-store')
  @ApiParam(USER_CODE_PARAM)
  @ApiOperation({ summary: 'The sign-in request with this user code: which client asks, from where, and its state' })
  @ApiOkResponse({ type: DeviceRequestView })
  async find(@CurrentPrincipal() principal: Principal, @Param('userCode') userCode: string) {
    personOf(principal);
    return this.view(await this.devices.find(userCode));
  }

  @Post(':userCode/approve')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiParam(USER_CODE_PARAM)
  @ApiOperation({
    summary:
      'Approve the request (needs a fresh, user-verified passkey sign-in): the command line that asked signs in as me, ' +
      'once; an agent acts for me for `days` (at most DELEGATION_MAX_DAYS, the default; more is a 400)',
  })
  @ApiOkResponse({ type: DeviceRequestView })
  async approve(
    @CurrentPrincipal() principal: Principal,
    @Param('userCode') userCode: string,
    @Body() body: ApproveDeviceRequest,
    @Audit() audit: AuditContext,
  ) {
    const userId = personOf(principal);
    // Approving signs a new command line in as this person: like a one-time CLI code, it needs the person.
    this.stepUp.requireFreshVerifiedSignIn(principal, 'approving a command line sign-in');
    const passkeyId = principal.token.passkey_id;
    if (typeof passkeyId !== 'string')
      throw new AppError(ErrorCode.StepUpRequired, 'confirm with your passkey first', 'step_up_without_passkey');
    return this.view(await this.devices.decide(audit, userCode, 'approve', { userId, passkeyId, days: body.days }));
  }

  @Post(':userCode/deny')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiParam(USER_CODE_PARAM)
  @ApiOperation({ summary: 'Deny the request: the command line that asked is told access_denied' })
  @ApiOkResponse({ type: DeviceRequestView })
  async deny(
    @CurrentPrincipal() principal: Principal,
    @Param('userCode') userCode: string,
    @Audit() audit: AuditContext,
  ) {
    const userId = personOf(principal);
    return this.view(await this.devices.decide(audit, userCode, 'deny', { userId }));
  }
}
