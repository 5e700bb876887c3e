import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { Request } from 'express';
import { AuditContext } from '@app/audit';
import { AppError, ErrorCode } from '@app/errors';
import { PrincipalService, StepUpPolicy } from '@app/principals';
import { InvitesService } from '@app/accounts';
import { RegistrationService } from '@app/webauthn';
import { Audit } from '../http/audit-context.decorator';
import { bearerOf } from '../http/bearer.guard';
import { InviteLookupRequest, RegistrationOptionsRequest, RegistrationVerifyRequest } from './webauthn.dto';

@ApiTags('webauthn')
@ApiBearerAuth()
@Controller('v1/registration')
export class RegistrationController {
  constructor(
    private readonly registration: RegistrationService,
    private readonly principals: PrincipalService,
    private readonly stepUp: StepUpPolicy,
    private readonly invites: InvitesService,
  ) {}

  /**
   * What an invite link enrolls, so the enrollment page can say it before anyone touches a passkey prompt. It reads
   * the invite and uses nothing up (no challenge, no state change); an unusable link gets the same 400 as at `options`.
   * Limited like the ceremony starts (it reveals a username to whoever holds the link, as the link itself does).
   */
  @Post('invite')
  @HttpCode(200)
  @ApiOperation({
    summary: 'The account an invite link enrolls (username, display name, expiry), without using the link',
  })
  async invite(@Body() body: InviteLookupRequest) {
    const invite = await this.invites.findRedeemable(body.inviteToken);
    return {
      username: invite.username,
      displayName: invite.displayName,
      expiresAt: invite.expiresAt.toISOString(),
      existingAccount: invite.userId !== null,
    };
  }

  @Post('options')
  @HttpCode(200)
  @ApiOperation({ summary: 'Creation options for an invite holder, or for a signed-in user adding a passkey' })
  async options(@Req() req: Request, @Body() body: RegistrationOptionsRequest, @Audit() audit: AuditContext) {
    const userId = await this.signedInUser(req);
    if (body.inviteToken)
      return this.registration.options(audit, { kind: 'invite', inviteToken: body.inviteToken }, body.displayName);
    if (userId)
      return this.registration.options({ ...audit, actorType: 'user', actorId: userId }, { kind: 'user', userId });
    throw new AppError(ErrorCode.Unauthenticated, 'an invite token or a Bearer access token is required');
  }

  @Post('verify')
  @HttpCode(201)
  @ApiOperation({ summary: 'Verify the attestation and store the passkey' })
  async verify(@Req() req: Request, @Body() body: RegistrationVerifyRequest, @Audit() audit: AuditContext) {
    const userId = await this.signedInUser(req);
    const passkey = await this.registration.verify(
      userId ? { ...audit, actorType: 'user', actorId: userId } : audit,
      body.response,
      body.label,
      userId,
    );
    return {
      id: passkey.id,
      credentialId: passkey.credentialId,
      label: passkey.label,
      createdAt: passkey.createdAt.toISOString(),
      username: passkey.username,
      deviceType: passkey.deviceType,
      backedUp: passkey.backedUp,
    };
  }

  /**
   * Only a person's own login token may add passkeys to their account, and only a step-up one: a new passkey is a
   * new way into the account, so it needs a fresh, user-verified assertion, not just any session that happens to be open.
   */
  private async signedInUser(req: Request): Promise<string | undefined> {
    const token = bearerOf(req);
    if (!token) return undefined;
    const principal = await this.principals.authenticate(token);
    if (principal.kind !== 'user')
      throw new AppError(ErrorCode.Forbidden, 'only a signed-in person can add a passkey to their account');
    this.stepUp.requireFreshVerifiedSignIn(principal, 'adding a passkey');
    return principal.id;
  }
}
