export { AuditEvent, AuditOutcome, ActorType } from './audit-event.entity';
export { AuditContext, AuditRecord, AuditQuery, CLI_CONTEXT, SYSTEM_CONTEXT } from './audit.types';
export { AuditService } from './audit.service';
export { AuditEventRepository } from './audit-event.repository';
export { AuditModule, AUDIT_ENTITIES } from './audit.module';
