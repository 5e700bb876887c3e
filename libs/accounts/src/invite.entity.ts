import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn, JsonTextColumn } from '@app/persistence';

@Entity('invites')
export class Invite {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** SHA-256 of the invite token; the token itself is shown once and never stored. */
  @Column({ name: 'token_hash', type: 'varchar', length: 64, unique: true })
  tokenHash: string;

  @Column({ type: 'varchar', length: 128 })
  username: string;

  @Column({ name: 'display_name', type: 'varchar', length: 256, nullable: true })
  displayName: string | null;

  @JsonTextColumn()
  groups: string[];

  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy: string;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'expires_at' })
  expiresAt: Date;

  @InstantColumn({ name: 'used_at', nullable: true })
  usedAt: Date | null;

  @InstantColumn({ name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;
}
