import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { CliSignInModule } from '@app/cli-sign-in';
import { DelegationsModule } from '@app/delegations';
import { PrincipalsModule } from '@app/principals';
import { TokensModule } from '@app/tokens';
import { WebAuthnModule } from '@app/webauthn';
import { BearerGuard } from '../http/bearer.guard';
import { AdminDenialsAudit } from './admin-denials.middleware';
import { AdminAuditController } from './audit.controller';
import { AccountNames, AuditNames } from './audit-names';
import { AdminInvitesController } from './invites.controller';
import { AdminKeysController } from './keys.controller';
import { MeController } from './me.controller';
import { MyCommandLinesController } from './my-command-lines.controller';
import { MyAgentsController } from './my-agents.controller';
import { MyDelegationsController } from './my-delegations.controller';
import { AdminDelegationsController } from './delegations.controller';
import { SignInModule } from '../sign-in/sign-in.module';
import { MyDeviceRequestsController } from './my-device-requests.controller';
import { AdminServiceAccountsController } from './service-accounts.controller';
import { AdminUsersController } from './users.controller';
import { AdminReportsController } from './access-review/access-review.controller';
import { AccessReviewRepository } from './access-review/access-review.repository';
import { AccessReviewService } from './access-review/access-review.service';

/** The /v1/admin API and the self-service /v1/me API. */
@Module({
  imports: [
    CliSignInModule,
    DelegationsModule,
    SignInModule,
    AccountsModule,
    AuditModule,
    PrincipalsModule,
    TokensModule,
    WebAuthnModule,
  ],
  controllers: [
    AdminUsersController,
    AdminInvitesController,
    AdminServiceAccountsController,
    AdminKeysController,
    AdminAuditController,
    AdminReportsController,
    MeController,
    MyCommandLinesController,
    MyDelegationsController,
    MyAgentsController,
    AdminDelegationsController,
    MyDeviceRequestsController,
  ],
  providers: [BearerGuard, AdminDenialsAudit, AccountNames, AuditNames, AccessReviewRepository, AccessReviewService],
})
export class AdminModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(AdminDenialsAudit).forRoutes('v1/admin/*path');
  }
}
