import { Body, Get, Header, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { ServiceAccountsService } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { Audit } from '../http/audit-context.decorator';
import { StatusRead } from '../http/bearer.guard';
import { AdminController } from './admin-controller.decorator';
import { CreateServiceAccountRequest, SetServiceAccountKeysRequest } from './admin.dto';
import { serviceAccountView } from './views';

/** `:id` accepts the account id, its client id or its name. */
@AdminController('service-accounts')
export class AdminServiceAccountsController {
  constructor(private readonly accounts: ServiceAccountsService) {}

  @Post()
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary:
      'Create a service account; the client secret is shown only in this response (none with `jwks`: it authenticates with a private-key JWT)',
  })
  create(@Body() body: CreateServiceAccountRequest, @Audit() audit: AuditContext) {
    return this.accounts.create(audit, body);
  }

  @Get()
  @StatusRead()
  @ApiOperation({ summary: 'List service accounts (never their secrets)' })
  async list() {
    return (await this.accounts.list()).map(serviceAccountView);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Issue a new client secret; the old one and every token issued with it stop working at once',
  })
  rotateSecret(@Param('id') id: string, @Audit() audit: AuditContext) {
    return this.accounts.rotateSecret(audit, id);
  }

  @Put(':id/keys')
  @ApiOperation({
    summary:
      'Replace the public keys of private_key_jwt client authentication; tokens already issued run until they expire (disable to end them at once)',
  })
  async setKeys(@Param('id') id: string, @Body() body: SetServiceAccountKeysRequest, @Audit() audit: AuditContext) {
    return serviceAccountView(await this.accounts.setKeys(audit, id, body.jwks));
  }

  @Post(':id/disable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Disable: no new tokens, and its current tokens stop working for good (enabling does not revive them)',
  })
  async disable(@Param('id') id: string, @Audit() audit: AuditContext) {
    return serviceAccountView(await this.accounts.setDisabled(audit, id, true));
  }

  @Post(':id/enable')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Enable a disabled service account: it gets new tokens; those from before the disable stay refused',
  })
  async enable(@Param('id') id: string, @Audit() audit: AuditContext) {
    return serviceAccountView(await this.accounts.setDisabled(audit, id, false));
  }
}
