import { Entity } from 'typeorm';
import { IdColumn, VarcharColumn, InstantColumn, JsonTextColumn, BigCounterColumn } from '@app/persistence';

export type AuditOutcome = 'success' | 'failure';
export type ActorType = 'user' | 'service_account' | 'cli' | 'system' | 'anonymous';

@Entity('audit_events')
export class AuditEvent {
  @IdColumn()
  id: string;

  @InstantColumn()
  occurredAt: Date;

  @VarcharColumn(64)
  type: string;

  @VarcharColumn(16)
  outcome: AuditOutcome;

  @VarcharColumn(64, { nullable: true })
  reason: string | null;

  @VarcharColumn(16)
  actorType: ActorType;

  @VarcharColumn(128, { nullable: true })
  actorId: string | null;

  @VarcharColumn(32, { nullable: true })
  subjectType: string | null;

  @VarcharColumn(128, { nullable: true })
  subjectId: string | null;

  @VarcharColumn(64, { nullable: true })
  clientIp: string | null;

  @VarcharColumn(512, { nullable: true })
  userAgent: string | null;

  @JsonTextColumn()
  details: Record<string, unknown>;

  /** Position in the hash chain (audit-chain.ts); null only on a row written behind the service's back. */
  @BigCounterColumn({ nullable: true })
  seq: number | null;

  @VarcharColumn(64, { nullable: true })
  prevHash: string | null;

  @VarcharColumn(64, { nullable: true })
  hash: string | null;
}
