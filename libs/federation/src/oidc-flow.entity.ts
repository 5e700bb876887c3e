import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '@app/persistence';

/**
 * A sign-in started at the OpenID provider and not finished yet. Stored server side (any instance can finish what
 * another began), found by `state`, deleted on first use, expiring: the same life as a WebAuthn challenge.
 */
@Entity('oidc_flows')
export class OidcFlow {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128, unique: true })
  state: string;

  @Column({ type: 'varchar', length: 128 })
  nonce: string;

  /** PKCE (RFC 7636): only the challenge derived from it went to the browser. */
  @Column({ name: 'code_verifier', type: 'varchar', length: 128 })
  codeVerifier: string;

  /** SHA-256 (hex) of the value the browser that started the flow keeps in an httponly cookie. */
  @Column({ name: 'binding_hash', type: 'varchar', length: 64 })
  bindingHash: string;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'expires_at' })
  expiresAt: Date;
}
