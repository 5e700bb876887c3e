import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { Invite } from './invite.entity';
import { InvitesService } from './invites.service';
import { ServiceAccount } from './service-account.entity';
import { ServiceAccountsService } from './service-accounts.service';
import { User } from './user.entity';
import { UsersService } from './users.service';

export const ACCOUNTS_ENTITIES = [User, Invite, ServiceAccount];

@Module({
  imports: [TypeOrmModule.forFeature(ACCOUNTS_ENTITIES), AuditModule],
  providers: [UsersService, InvitesService, ServiceAccountsService],
  exports: [UsersService, InvitesService, ServiceAccountsService],
})
export class AccountsModule {}
