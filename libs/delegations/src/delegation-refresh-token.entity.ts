import { Entity, PrimaryColumn } from 'typeorm';
import { IdRefColumn, InstantColumn, VarcharColumn } from '@app/persistence';

/** One refresh token of a delegation (only its SHA-256), usable once and only by the client it was issued to. */
@Entity('delegation_refresh_tokens')
export class DelegationRefreshToken {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  tokenHash: string;

  @IdRefColumn()
  delegationId: string;

  @VarcharColumn(64)
  clientId: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn({ nullable: true })
  usedAt: Date | null;
}
