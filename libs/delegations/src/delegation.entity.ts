import { Column, Entity } from 'typeorm';
import { IdColumn, IdRefColumn, InstantColumn, VarcharColumn } from '@app/persistence';

/**
 * A person's approval that an agent acts for them within `scope` until `expiresAt` (or a sub-agent's narrower share
 * of its parent, `parentId`, depth 2). Live only while the person, the agent, the approving passkey and the parent
 * are; `revokedAt` ends it for good.
 */
@Entity('delegations')
export class Delegation {
  @IdColumn()
  id: string;

  @IdRefColumn()
  userId: string;

  /** The acting service account (an agent). */
  @IdRefColumn()
  agentId: string;

  @VarcharColumn(64)
  agentClientId: string;

  /** Canonical `dag:` scope text (dag-scope.ts). */
  @VarcharColumn(2000)
  scope: string;

  /** The passkey of the user-verified approval (for a sub-agent: the parent's). */
  @IdRefColumn()
  passkeyId: string;

  @IdRefColumn({ nullable: true })
  parentId: string | null;

  /** 1 for an agent approved by the person, 2 for a sub-agent (the `act` nesting depth). */
  @Column({ type: 'integer' })
  depth: number;

  /** The person's session generation at approval: a later disable or flagged passkey ends the delegation for good. */
  @Column({ type: 'integer', default: 0 })
  personGeneration: number;

  /** The agent's session generation at approval (or the sub-agent's at the exchange): a later disable ends it. */
  @Column({ type: 'integer', default: 0 })
  agentGeneration: number;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  expiresAt: Date;

  @InstantColumn({ nullable: true })
  revokedAt: Date | null;

  @VarcharColumn(128, { nullable: true })
  revokedBy: string | null;

  /** `person`, `admin`, `refresh_token_reuse`. */
  @VarcharColumn(32, { nullable: true })
  revokedReason: string | null;
}
