import { Column, Entity } from 'typeorm';
import { IdColumn, VarcharColumn, InstantColumn, JsonTextColumn } from '@app/persistence';
import type { JWK } from 'jose';

/**
 * next: published in the JWKS, not yet signing (so verifiers learn it before they meet it);
 * active: the one key that signs; retired: published until every token it signed has expired;
 * expired: kept with its private part erased; its public key still verifies the audit checkpoints it signed.
 */
export type SigningKeyState = 'next' | 'active' | 'retired' | 'expired';

@Entity('signing_keys')
export class SigningKey {
  @IdColumn()
  id: string;

  /** RFC 7638 thumbprint of the public key. */
  @VarcharColumn(64, { unique: true })
  kid: string;

  @VarcharColumn(16)
  alg: 'EdDSA' | 'ES256';

  @VarcharColumn(16)
  state: SigningKeyState;

  @JsonTextColumn()
  publicJwk: JWK;

  /**
   * AES-256-GCM under KEY_ENCRYPTION_KEY, with the kid as associated data (see key-encryption.ts); once expired, a
   * sealed erasure marker instead of the key.
   */
  @Column({ type: 'text' })
  encryptedPrivateKey: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn({ nullable: true })
  activatedAt: Date | null;

  @InstantColumn({ nullable: true })
  retiredAt: Date | null;

  @InstantColumn({ nullable: true })
  publishUntil: Date | null;
}
