import { Column, Entity, PrimaryColumn } from 'typeorm';
import { BigCounterColumn, InstantColumn, JsonTextColumn } from '@app/persistence';

@Entity('passkeys')
export class Passkey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  /** base64url of the raw credential id. */
  @Column({ name: 'credential_id', type: 'varchar', length: 1400, unique: true })
  credentialId: string;

  /** base64url of the COSE public key. */
  @Column({ name: 'public_key', type: 'text' })
  publicKey: string;

  /** COSE algorithm identifier (-8 EdDSA, -7 ES256, -257 RS256). */
  @Column({ type: 'integer' })
  algorithm: number;

  @BigCounterColumn()
  counter: number;

  @JsonTextColumn()
  transports: string[];

  @Column({ type: 'varchar', length: 36 })
  aaguid: string;

  @Column({ name: 'device_type', type: 'varchar', length: 16 })
  deviceType: 'singleDevice' | 'multiDevice';

  /** The BE flag seen at registration; WebAuthn §6.1.3 says it never changes for a credential. */
  @Column({ name: 'backup_eligible', type: 'boolean' })
  backupEligible: boolean;

  @Column({ name: 'backed_up', type: 'boolean' })
  backedUp: boolean;

  @Column({ name: 'attestation_format', type: 'varchar', length: 32 })
  attestationFormat: string;

  @Column({ type: 'varchar', length: 128 })
  label: string;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'last_used_at', nullable: true })
  lastUsedAt: Date | null;

  @InstantColumn({ name: 'revoked_at', nullable: true })
  revokedAt: Date | null;

  /** Set when the credential showed signs of cloning; a flagged passkey no longer signs anyone in. */
  @InstantColumn({ name: 'flagged_at', nullable: true })
  flaggedAt: Date | null;

  @Column({ name: 'flag_reason', type: 'varchar', length: 64, nullable: true })
  flagReason: string | null;
}
