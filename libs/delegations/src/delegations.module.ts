import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '@app/audit';
import { Delegation } from './delegation.entity';
import { DelegationRefreshToken } from './delegation-refresh-token.entity';
import { DelegationRepository } from './delegation.repository';
import { DELEGATION_CLOCK, DelegationsService } from './delegations.service';

export const DELEGATIONS_ENTITIES = [Delegation, DelegationRefreshToken];

@Module({
  imports: [TypeOrmModule.forFeature(DELEGATIONS_ENTITIES), AuditModule],
  providers: [DelegationRepository, DelegationsService, { provide: DELEGATION_CLOCK, useValue: () => new Date() }],
  exports: [DelegationsService],
})
export class DelegationsModule {}
