import { Entity } from 'typeorm';
import { IdColumn, IdRefColumn, VarcharColumn, InstantColumn, JsonTextColumn } from '@app/persistence';

@Entity('invites')
export class Invite {
  @IdColumn()
  id: string;

  /** SHA-256 of the invite token; the token itself is shown once and never stored. */
  @VarcharColumn(64, { unique: true })
  tokenHash: string;

  @VarcharColumn(128)
  username: string;

  @VarcharColumn(256, { nullable: true })
  displayName: string | null;

  @JsonTextColumn()
  groups: string[];

  @VarcharColumn(128)
  createdBy: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  expiresAt: Date;

  @InstantColumn({ nullable: true })
  usedAt: Date | null;

  @InstantColumn({ nullable: true })
  revokedAt: Date | null;

  @IdRefColumn({ nullable: true })
  userId: string | null;
}
