import { Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '@app/persistence';

/**
 * A back-channel logout token already acted on, by the SHA-256 (hex) of its issuer and `jti`: each token is acted on
 * once. Kept only while a token that old would still be accepted (its `iat` is recent); purged after.
 */
@Entity('used_logout_tokens')
export class UsedLogoutToken {
  @PrimaryColumn({ name: 'jti_hash', type: 'varchar', length: 64 })
  jtiHash: string;

  @InstantColumn({ name: 'expires_at' })
  expiresAt: Date;
}
