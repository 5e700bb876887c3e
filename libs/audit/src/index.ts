export { AuditEvent, AuditOutcome, ActorType } from './audit-event.entity';
export { AuditContext, AuditRecord, AuditQuery, CLI_CONTEXT, SYSTEM_CONTEXT } from './audit.types';
export { AuditService } from './audit.service';
export { AuditEventRepository } from './audit-event.repository';
export { AuditModule, AUDIT_ENTITIES } from './audit.module';
export { AuditChainService, storedLink } from './audit-chain.service';
export {
  ChainChecker,
  ChainVerdict,
  AnchorFound,
  StoredLink,
  StartCheckpoint,
  GENESIS_HASH,
  PRUNED_EVENT,
  chainHash,
  canonicalJson,
} from './audit-chain';
export {
  CheckpointKeys,
  CheckpointSign,
  CHECKPOINT_TYP,
  carriedKeysTrust,
  serviceKeysTrust,
  jwkThumbprint,
} from './audit-checkpoint';
export { AuditMaintenanceScheduler } from './audit-maintenance.scheduler';
export { AGGREGATION_WINDOW_MS } from './audit-bounds';
export { SignedHead, ChainAnchor, readSignedHead, parseHeadText, HEAD_KIND } from './audit-head';
export { AuditHeadLogger } from './audit-head.logger';
