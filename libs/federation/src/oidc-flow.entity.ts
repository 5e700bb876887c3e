import { Entity } from 'typeorm';
import { IdColumn, VarcharColumn, InstantColumn } from '@app/persistence';

/**
 * A sign-in started at the OpenID provider and not finished yet. Stored server side (any instance can finish what
 * another began), found by `state`, deleted on first use, expiring: the same life as a WebAuthn challenge.
 */
@Entity('oidc_flows')
export class OidcFlow {
  @IdColumn()
  id: string;

  @VarcharColumn(128, { unique: true })
  state: string;

  @VarcharColumn(128)
  nonce: string;

  /** PKCE (RFC 7636): only the challenge derived from it went to the browser. */
  @VarcharColumn(128)
  codeVerifier: string;

  /** SHA-256 (hex) of the value the browser that started the flow keeps in an httponly cookie. */
  @VarcharColumn(64)
  bindingHash: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  expiresAt: Date;
}
