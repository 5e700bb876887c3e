import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { ClientAssertionCleanupScheduler } from './client-assertion-cleanup.scheduler';
import { ClientAssertionVerifier } from './client-assertion';
import { Invite } from './invite.entity';
import { InviteRepository } from './invite.repository';
import { InvitesService } from './invites.service';
import { LastAdminGuard } from './last-admin.guard';
import { ServiceAccount } from './service-account.entity';
import { ServiceAccountRepository } from './service-account.repository';
import { ServiceAccountsService } from './service-accounts.service';
import { User } from './user.entity';
import { UsedClientAssertion } from './used-client-assertion.entity';
import { UsedClientAssertionRepository } from './used-client-assertion.repository';
import { UserRepository } from './user.repository';
import { UsersService } from './users.service';

export const ACCOUNTS_ENTITIES = [User, Invite, ServiceAccount, UsedClientAssertion];

@Module({
  imports: [TypeOrmModule.forFeature(ACCOUNTS_ENTITIES), AuditModule],
  providers: [
    InviteRepository,
    ServiceAccountRepository,
    UsedClientAssertionRepository,
    ClientAssertionVerifier,
    ClientAssertionCleanupScheduler,
    UserRepository,
    UsersService,
    InvitesService,
    ServiceAccountsService,
    LastAdminGuard,
  ],
  exports: [
    UserRepository,
    ServiceAccountRepository,
    UsersService,
    InvitesService,
    ServiceAccountsService,
    LastAdminGuard,
  ],
})
export class AccountsModule {}
