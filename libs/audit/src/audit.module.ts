import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditEvent } from './audit-event.entity';
import { AuditEventRepository } from './audit-event.repository';
import { AuditWindowRepository } from './audit-window.repository';
import { AuditService } from './audit.service';
import { AuditChainService } from './audit-chain.service';

@Module({
  imports: [TypeOrmModule.forFeature([AuditEvent])],
  providers: [AuditEventRepository, AuditWindowRepository, AuditService, AuditChainService],
  exports: [AuditService, AuditChainService],
})
export class AuditModule {}

export const AUDIT_ENTITIES = [AuditEvent];
