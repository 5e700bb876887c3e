import { CliSignInModule } from '@app/cli-sign-in';
import { DynamicModule, Module } from '@nestjs/common';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { AppConfig, AppConfigModule } from '@app/config';
import { PersistenceModule } from '@app/persistence';
import { TokensModule } from '@app/tokens';
import { WebAuthnModule } from '@app/webauthn';
import { ALL_ENTITIES } from '../entities';

/**
 * The services the admin CLI drives, on the same database as the service: no HTTP, no schedulers (a one-shot
 * command must not rotate keys or sweep challenges as a side effect). Connecting runs pending migrations.
 */
@Module({})
export class CliModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: CliModule,
      imports: [
        AppConfigModule.forRoot(config),
        PersistenceModule.forRoot(ALL_ENTITIES, { retryAttempts: 0 }),
        AuditModule,
        AccountsModule,
        TokensModule,
        WebAuthnModule,
        CliSignInModule,
      ],
    };
  }
}
