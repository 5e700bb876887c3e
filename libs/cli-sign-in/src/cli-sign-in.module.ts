import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { CLI_CODE_CLOCK, CliCodesService } from './cli-codes.service';
import { CliSignIn } from './cli-sign-in.entity';
import { CliSignInRepository } from './cli-sign-in.repository';
import { DeviceAuthorization } from './device-authorization.entity';
import { DeviceAuthorizationRepository } from './device-authorization.repository';
import { DEVICE_CLOCK, DeviceAuthorizationsService, DeviceClock } from './device-authorizations.service';

export const CLI_SIGN_IN_ENTITIES = [CliSignIn, DeviceAuthorization];

const systemClock: DeviceClock = { now: () => new Date() };

@Module({
  imports: [TypeOrmModule.forFeature(CLI_SIGN_IN_ENTITIES), AuditModule],
  providers: [
    CliSignInRepository,
    CliCodesService,
    DeviceAuthorizationRepository,
    DeviceAuthorizationsService,
    { provide: CLI_CODE_CLOCK, useValue: () => new Date() },
    { provide: DEVICE_CLOCK, useValue: systemClock },
  ],
  exports: [CliCodesService, DeviceAuthorizationsService],
})
export class CliSignInModule {}
