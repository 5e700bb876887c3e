import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { CliCodesService } from './cli-codes.service';
import { CliSignIn } from './cli-sign-in.entity';
import { CliSignInRepository } from './cli-sign-in.repository';
import { DeviceAuthorization } from './device-authorization.entity';
import { DeviceAuthorizationRepository } from './device-authorization.repository';
import { DeviceAuthorizationsService } from './device-authorizations.service';

export const CLI_SIGN_IN_ENTITIES = [CliSignIn, DeviceAuthorization];

@Module({
  imports: [TypeOrmModule.forFeature(CLI_SIGN_IN_ENTITIES), AuditModule],
  providers: [CliSignInRepository, CliCodesService, DeviceAuthorizationRepository, DeviceAuthorizationsService],
  exports: [CliCodesService, DeviceAuthorizationsService],
})
export class CliSignInModule {}
