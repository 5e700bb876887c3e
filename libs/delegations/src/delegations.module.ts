import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { Delegation } from './delegation.entity';
import { DelegationRefreshToken } from './delegation-refresh-token.entity';
import { DelegationRepository } from './delegation.repository';
import { DelegationsService } from './delegations.service';

export const DELEGATIONS_ENTITIES = [Delegation, DelegationRefreshToken];

@Module({
  imports: [TypeOrmModule.forFeature(DELEGATIONS_ENTITIES), AuditModule],
  providers: [DelegationRepository, DelegationsService],
  exports: [DelegationsService],
})
export class DelegationsModule {}
