import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BigCounterColumn, InstantColumn, JsonTextColumn } from '@app/persistence';

export type AuditOutcome = 'success' | 'failure';
export type ActorType = 'user' | 'service_account' | 'cli' | 'system' | 'anonymous';

@Entity('audit_events')
export class AuditEvent {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @InstantColumn({ name: 'occurred_at' })
  occurredAt: Date;

  @Column({ type: 'varchar', length: 64 })
  type: string;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  @Column({ type: 'varchar', length: 64, nullable: true })
  reason: string | null;

  @Column({ name: 'actor_type', type: 'varchar', length: 16 })
  actorType: ActorType;

  @Column({ name: 'actor_id', type: 'varchar', length: 128, nullable: true })
  actorId: string | null;

  @Column({ name: 'subject_type', type: 'varchar', length: 32, nullable: true })
  subjectType: string | null;

  @Column({ name: 'subject_id', type: 'varchar', length: 128, nullable: true })
  subjectId: string | null;

  @Column({ name: 'client_ip', type: 'varchar', length: 64, nullable: true })
  clientIp: string | null;

  @Column({ name: 'user_agent', type: 'varchar', length: 512, nullable: true })
  userAgent: string | null;

  @JsonTextColumn()
  details: Record<string, unknown>;

  /** Position in the hash chain (audit-chain.ts); null only on a row written behind the service's back. */
  @BigCounterColumn({ nullable: true })
  seq: number | null;

  @Column({ name: 'prev_hash', type: 'varchar', length: 64, nullable: true })
  prevHash: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  hash: string | null;
}
