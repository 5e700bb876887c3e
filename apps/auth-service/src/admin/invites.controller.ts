import { Body, Delete, Get, Header, Inject, Param, Post } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { InvitesService } from '@app/accounts';
import { AuditContext } from '@app/audit';
import { CLOCK, Clock } from '@app/config';
import { Audit } from '../http/audit-context.decorator';
import { AdminController } from './admin-controller.decorator';
import { CreateInviteRequest } from './admin.dto';
import { inviteView } from './views';

@AdminController('invites')
export class AdminInvitesController {
  constructor(
    private readonly invites: InvitesService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Post()
  // The response carries the one-time token: no cache may keep it.
  @Header('Cache-Control', 'no-store')
  @ApiOperation({ summary: 'Create an enrollment invite; the token is shown only in this response' })
  async create(@Body() body: CreateInviteRequest, @Audit() audit: AuditContext) {
    const invite = await this.invites.create(audit, body);
    return {
      id: invite.id,
      username: invite.username,
      token: invite.token,
      url: invite.url,
      expiresAt: invite.expiresAt.toISOString(),
    };
  }

  @Get()
  @ApiOperation({ summary: 'List invites with their state (tokens are never shown again)' })
  async list() {
    const now = this.clock.now();
    const invites = await this.invites.list();
    const names = await this.invites.creatorNames(invites);
    return invites.map((i) => inviteView(i, now, names));
  }

  @Delete(':id')
  @ApiOperation({ summary: 'Revoke a pending invite' })
  async revoke(@Param('id') id: string, @Audit() audit: AuditContext) {
    await this.invites.revoke(audit, id);
    return inviteView(await this.invites.get(id), this.clock.now());
  }
}
