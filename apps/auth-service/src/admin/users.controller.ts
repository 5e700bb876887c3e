import { Body, Delete, Get, HttpCode, Inject, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiQuery } from '@nestjs/swagger';
import { UsersService } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { CliCodesService } from '@app/cli-sign-in';
import { AuthenticatorPolicyService, PasskeysService } from '@app/webauthn';
import { CLOCK, Clock } from '@app/config';
import { Audit } from '../http/audit-context.decorator';
import { StatusRead } from '../http/bearer.guard';
import { AdminController } from './admin-controller.decorator';
import { RenamePasskeyRequest, UpdateUserRequest } from './admin.dto';
import { CliSignInView, PasskeyView, UserDetailView, UserView } from './user-views';
import { cliSignInView, passkeyView, userDetailView, userView, withPolicy } from './views';

/** People and their passkeys. `:id` accepts a user id or a username, as admins type either. */
@AdminController('')
export class AdminUsersController {
  constructor(
    private readonly users: UsersService,
    private readonly passkeys: PasskeysService,
    private readonly cliSignIns: CliCodesService,
    private readonly policy: AuthenticatorPolicyService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get('users')
  @ApiOperation({ summary: 'List users' })
  @ApiOkResponse({ type: [UserView] })
  async list() {
    return (await this.users.list()).map(userView);
  }

  @Get('users/:id')
  @StatusRead()
  @ApiOperation({ summary: 'One user with their passkeys (revoked ones included) and command lines signed in' })
  @ApiQuery({
    name: 'commandLine',
    required: false,
    description: 'Airflow re-checks this command line because it is in use: record that as its last use',
  })
  @ApiOkResponse({ type: UserDetailView })
  async get(@Param('id') id: string, @Query('commandLine') commandLine?: string) {
    const user = await this.users.resolve(id);
    const inUse = typeof commandLine === 'string' && commandLine.length <= 36 ? commandLine : undefined;
    const cliSignIns = await this.cliSignIns.list(user.id, inUse);
    const passkeys = await this.passkeys.listForUser(user.id);
    return withPolicy(userDetailView(user, passkeys, cliSignIns, this.clock.now()), passkeys, this.policy);
  }

  @Patch('users/:id')
  @ApiOperation({ summary: 'Change display name and/or groups; refused when it demotes the last admin' })
  @ApiOkResponse({ type: UserView })
  async update(@Param('id') id: string, @Body() body: UpdateUserRequest, @Audit() audit: AuditContext) {
    return userView(await this.users.update(audit, id, body));
  }

  @Post('users/:id/disable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Disable: no sign-in, and every session and token of theirs ends for good; refused for the last admin',
  })
  @ApiOkResponse({ type: UserView })
  async disable(@Param('id') id: string, @Audit() audit: AuditContext) {
    return userView(await this.users.setDisabled(audit, id, true));
  }

  @Post('users/:id/enable')
  @HttpCode(200)
  @ApiOperation({ summary: 'Enable a disabled user: they sign in again; sessions ended by the disable stay ended' })
  @ApiOkResponse({ type: UserView })
  async enable(@Param('id') id: string, @Audit() audit: AuditContext) {
    return userView(await this.users.setDisabled(audit, id, false));
  }

  @Delete('users/:id/command-lines/:line')
  @ApiOperation({
    summary:
      "Sign a person's command line out (or revoke their unused code): Airflow refuses it at its next re-check. " +
      "Audited as cli_session.revoked (cli_code.revoked) with the admin as actor; 404 when it is not this person's",
  })
  @ApiOkResponse({ type: CliSignInView })
  async revokeCommandLine(@Param('id') id: string, @Param('line') line: string, @Audit() audit: AuditContext) {
    // The person first: a command line of anyone else (or an id the person never had) is a 404, never revoked.
    const user = await this.users.resolve(id);
    return cliSignInView(await this.cliSignIns.revoke(audit, user.id, line), this.clock.now());
  }

  @Get('users/:id/passkeys')
  @ApiOperation({ summary: "A user's passkeys (revoked ones included)" })
  @ApiOkResponse({ type: [PasskeyView] })
  async listPasskeys(@Param('id') id: string) {
    const user = await this.users.resolve(id);
    return (await this.passkeys.listForUser(user.id)).map(passkeyView);
  }

  @Patch('passkeys/:id')
  @ApiOperation({ summary: 'Rename a passkey' })
  @ApiOkResponse({ type: PasskeyView })
  async renamePasskey(@Param('id') id: string, @Body() body: RenamePasskeyRequest, @Audit() audit: AuditContext) {
    return passkeyView(await this.passkeys.rename(audit, id, body.label));
  }

  @Delete('passkeys/:id')
  @ApiOperation({
    summary:
      "Revoke a passkey (an admin may revoke a person's last one, e.g. for a lost device, but not the last admin's)",
  })
  @ApiOkResponse({ type: PasskeyView })
  async revokePasskey(@Param('id') id: string, @Audit() audit: AuditContext) {
    return passkeyView(await this.passkeys.revoke(audit, id));
  }

  @Post('passkeys/:id/unflag')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Unblock a passkey flagged by a security check, after review (audited); sessions from before stay ended',
  })
  @ApiOkResponse({ type: PasskeyView })
  async unflagPasskey(@Param('id') id: string, @Audit() audit: AuditContext) {
    return passkeyView(await this.passkeys.unflag(audit, id));
  }
}
