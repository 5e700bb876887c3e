import { Entity } from 'typeorm';
import { IdColumn, InstantColumn, VarcharColumn } from '@app/persistence';

/**
 * A back-channel logout token already acted on, by the SHA-256 (hex) of its issuer and `jti` (unique): each token
 * is acted on once. Kept only while a token that old would still be accepted (its `iat` is recent); purged after.
 */
@Entity('used_logout_tokens')
export class UsedLogoutToken {
  @IdColumn()
  id: string;

  @VarcharColumn(64, { unique: true })
  jtiHash: string;

  @InstantColumn()
  expiresAt: Date;
}
