import { Body, Controller, Delete, Get, Inject, Param, Patch, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { InvitesService, UsersService } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { CliCodesService } from '@app/cli-sign-in';
import { AppError, ErrorCode } from '@app/errors';
import { AuthenticatorPolicyService, PasskeysService } from '@app/webauthn';
import { CLOCK, Clock } from '@app/config';
import { Audit } from '../http/audit-context.decorator';
import { BearerGuard } from '../http/bearer.guard';
import type { Principal } from '../http/principal';
import { RenamePasskeyRequest } from './admin.dto';
import { CurrentPrincipal } from './principal.decorator';
import { passkeyView, userDetailView, withPolicy } from './views';

/** A person's id from their own login token; a service account has no profile or passkeys here. */
function personOf(principal: Principal): string {
  if (principal.kind !== 'user')
    throw new AppError(ErrorCode.Forbidden, 'only a signed-in person has a profile and passkeys');
  return principal.id;
}

/** Self-service: a signed-in person sees their profile and manages their own passkeys, and nobody else's. */
@ApiTags('me')
@ApiBearerAuth()
@UseGuards(BearerGuard)
@Controller('v1/me')
export class MeController {
  constructor(
    private readonly users: UsersService,
    private readonly invites: InvitesService,
    private readonly passkeys: PasskeysService,
    private readonly cliSignIns: CliCodesService,
    private readonly policy: AuthenticatorPolicyService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({ summary: 'My profile and passkeys' })
  async profile(@CurrentPrincipal() principal: Principal) {
    const user = await this.users.getById(personOf(principal));
    const passkeys = await this.passkeys.listForUser(user.id);
    // The Passkeys page shows "Not allowed for your role after <date>" from each passkey's notAllowedAfter.
    return withPolicy(
      userDetailView(user, passkeys, await this.cliSignIns.list(user.id), this.clock.now()),
      passkeys,
      this.policy,
    );
  }

  @Patch('passkeys/:id')
  @ApiOperation({ summary: 'Rename one of my passkeys' })
  async rename(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: RenamePasskeyRequest,
    @Audit() audit: AuditContext,
  ) {
    return passkeyView(await this.passkeys.rename(audit, id, body.label, personOf(principal)));
  }

  @Delete('passkeys/:id')
  @ApiOperation({ summary: 'Revoke one of my passkeys (not the last one, unless a re-enrollment invite is pending)' })
  async revoke(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Audit() audit: AuditContext) {
    const userId = personOf(principal);
    const passkey = await this.passkeys.revoke(audit, id, {
      ownerId: userId,
      keepOne: true,
      lastAllowed: await this.invites.hasPendingFor(userId),
    });
    return passkeyView(passkey);
  }
}
