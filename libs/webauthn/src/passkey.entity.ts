import { Column, Entity } from 'typeorm';
import {
  IdColumn,
  IdRefColumn,
  VarcharColumn,
  InstantColumn,
  JsonTextColumn,
  BigCounterColumn,
} from '@app/persistence';

@Entity('passkeys')
export class Passkey {
  @IdColumn()
  id: string;

  @IdRefColumn()
  userId: string;

  /** base64url of the raw credential id. */
  @VarcharColumn(1400, { unique: true })
  credentialId: string;

  /** base64url of the COSE public key. */
  @Column({ type: 'text' })
  publicKey: string;

  /** COSE algorithm identifier (-8 EdDSA, -7 ES256, -257 RS256). */
  @Column({ type: 'integer' })
  algorithm: number;

  @BigCounterColumn()
  counter: number;

  @JsonTextColumn()
  transports: string[];

  @VarcharColumn(36)
  aaguid: string;

  @VarcharColumn(16)
  deviceType: 'singleDevice' | 'multiDevice';

  /** The BE flag seen at registration; WebAuthn §6.1.3 says it never changes for a credential. */
  @Column({ type: 'boolean' })
  backupEligible: boolean;

  @Column({ type: 'boolean' })
  backedUp: boolean;

  @VarcharColumn(32)
  attestationFormat: string;

  @VarcharColumn(128)
  label: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn({ nullable: true })
  lastUsedAt: Date | null;

  @InstantColumn({ nullable: true })
  revokedAt: Date | null;

  /** Set when the credential showed signs of cloning; a flagged passkey no longer signs anyone in. */
  @InstantColumn({ nullable: true })
  flaggedAt: Date | null;

  @VarcharColumn(64, { nullable: true })
  flagReason: string | null;

  /** The passkey proved its model at registration: its attestation chained to a trust anchor from FIDO's MDS. */
  @Column({ type: 'boolean', default: false })
  attestationTrusted: boolean;

  /** When the authenticator policy stopped allowing this passkey (the grace period runs from here); null if it complies. */
  @InstantColumn({ nullable: true })
  policyNonCompliantSince: Date | null;

  /** Why the policy does not allow it (e.g. synced_passkey, model_not_allowed, authenticator_compromised). */
  @VarcharColumn(64, { nullable: true })
  policyReason: string | null;
}
