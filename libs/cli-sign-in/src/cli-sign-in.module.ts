import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { CliCodesService } from './cli-codes.service';
import { CliSignIn } from './cli-sign-in.entity';
import { CliSignInRepository } from './cli-sign-in.repository';

export const CLI_SIGN_IN_ENTITIES = [CliSignIn];

@Module({
  imports: [TypeOrmModule.forFeature(CLI_SIGN_IN_ENTITIES), AuditModule],
  providers: [CliSignInRepository, CliCodesService],
  exports: [CliCodesService],
})
export class CliSignInModule {}
