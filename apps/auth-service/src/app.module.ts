import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { AccountsModule } from '@app/accounts';
import { AuditModule } from '@app/audit';
import { AppConfig, AppConfigModule } from '@app/config';
import { AppErrorFilter } from '@app/errors';
import { LimitsMiddleware, LimitsModule } from '@app/limits';
import { KeyRotationScheduler, TokensModule } from '@app/tokens';
import { ChallengeCleanupScheduler, WebAuthnModule } from '@app/webauthn';
import { AdminModule } from './admin/admin.module';
import { ALL_ENTITIES } from './entities';
import { RequestLogMiddleware } from './http/request-log.middleware';
import { PersistenceModule } from '@app/persistence';
import { AuthenticationController } from './public/authentication.controller';
import { HealthController } from './public/health.controller';
import { OAuthController } from './public/oauth.controller';
import { RegistrationController } from './public/registration.controller';
import { WellKnownController } from './public/well-known.controller';

@Module({})
export class AppModule implements NestModule {
  /** @param config an already-validated configuration (tests); defaults to the environment. */
  static forRoot(config?: AppConfig) {
    return {
      module: AppModule,
      imports: [
        AppConfigModule.forRoot(config),
        PersistenceModule.forRoot(ALL_ENTITIES),
        ScheduleModule.forRoot(),
        TerminusModule,
        AuditModule,
        AccountsModule,
        TokensModule,
        LimitsModule,
        WebAuthnModule,
        AdminModule,
      ],
      controllers: [WellKnownController, RegistrationController, AuthenticationController, OAuthController, HealthController],
      providers: [
        KeyRotationScheduler,
        ChallengeCleanupScheduler,
        { provide: APP_FILTER, useClass: AppErrorFilter },
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Logged first, so a request refused by the limits is in the log too.
    consumer.apply(RequestLogMiddleware, LimitsMiddleware).forRoutes('*path');
  }
}
