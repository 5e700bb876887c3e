import { Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { TokensModule } from '@app/tokens';
import { WebAuthnModule } from '@app/webauthn';
import { BearerGuard } from '../http/bearer.guard';

/** The /v1/admin API and the self-service /v1/me API (controllers added here). */
@Module({
  imports: [AccountsModule, AuditModule, TokensModule, WebAuthnModule],
  controllers: [],
  providers: [BearerGuard],
})
export class AdminModule {}
