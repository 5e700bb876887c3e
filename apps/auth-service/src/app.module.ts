import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { AccountsModule } from '@app/accounts';
import { AuditHeadLogger, AuditMaintenanceScheduler, AuditModule } from '@app/audit';
import { FederationModule, OidcFlowCleanupScheduler } from '@app/federation';
import { AppConfig, AppConfigModule } from '@app/config';
import { LimitsMiddleware, LimitsModule } from '@app/limits';
import { KeyRotationScheduler, TokensModule } from '@app/tokens';
import { AuthenticatorPolicyScheduler, ChallengeCleanupScheduler, WebAuthnModule } from '@app/webauthn';
import { AdminModule } from './admin/admin.module';
import { ALL_ENTITIES } from './entities';
import { RequestLogMiddleware } from './http/request-log.middleware';
import { PersistenceModule } from '@app/persistence';
import { PrincipalsModule } from '@app/principals';
import { AuthenticationController } from './public/authentication.controller';
import { HealthController } from './public/health.controller';
import { OAuthController } from './public/oauth.controller';
import { OidcController } from './public/oidc.controller';
import { RegistrationController } from './public/registration.controller';
import { WellKnownController } from './public/well-known.controller';
import { SignInModule } from './sign-in/sign-in.module';
import { CliTokenController } from './public/cli-token.controller';

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
        PrincipalsModule,
        AdminModule,
        SignInModule,
        FederationModule,
      ],
      controllers: [
        WellKnownController,
        RegistrationController,
        AuthenticationController,
        CliTokenController,
        OAuthController,
        OidcController,
        HealthController,
      ],
      providers: [
        KeyRotationScheduler,
        ChallengeCleanupScheduler,
        AuthenticatorPolicyScheduler,
        OidcFlowCleanupScheduler,
        AuditMaintenanceScheduler,
        AuditHeadLogger,
      ],
    };
  }

  configure(consumer: MiddlewareConsumer): void {
    // Logged first, so a request refused by the limits is in the log too.
    consumer.apply(RequestLogMiddleware, LimitsMiddleware).forRoutes('*path');
  }
}
