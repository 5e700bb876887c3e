import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn, JsonTextColumn } from '@app/persistence';
import type { JWK } from 'jose';

/**
 * next: published in the JWKS, not yet signing (so verifiers learn it before they meet it);
 * active: the one key that signs; retired: published until every token it signed has expired;
 * expired: kept for the record with its private part erased.
 */
export type SigningKeyState = 'next' | 'active' | 'retired' | 'expired';

@Entity('signing_keys')
export class SigningKey {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** RFC 7638 thumbprint of the public key. */
  @Column({ type: 'varchar', length: 64, unique: true })
  kid: string;

  @Column({ type: 'varchar', length: 16 })
  alg: 'EdDSA' | 'ES256';

  @Column({ type: 'varchar', length: 16 })
  state: SigningKeyState;

  @JsonTextColumn({ name: 'public_jwk' })
  publicJwk: JWK;

  /** AES-256-GCM under KEY_ENCRYPTION_KEY, with the kid as associated data (see key-encryption.ts). */
  @Column({ name: 'encrypted_private_key', type: 'text' })
  encryptedPrivateKey: string;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'activated_at', nullable: true })
  activatedAt: Date | null;

  @InstantColumn({ name: 'retired_at', nullable: true })
  retiredAt: Date | null;

  @InstantColumn({ name: 'publish_until', nullable: true })
  publishUntil: Date | null;
}
