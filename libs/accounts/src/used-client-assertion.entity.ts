import { Entity } from 'typeorm';
import { IdColumn, InstantColumn, VarcharColumn } from '@app/persistence';

/**
 * A client assertion (RFC 7523 §2.2) already accepted, by the SHA-256 (hex) of its client id and `jti` (unique):
 * RFC 7523 §3 lets a server refuse a replayed jti; here each is accepted once. Kept until the assertion's own `exp`
 * (plus the clock skew allowed), after which it is refused as expired anyway; purged then.
 */
@Entity('used_client_assertions')
export class UsedClientAssertion {
  @IdColumn()
  id: string;

  @VarcharColumn(64, { unique: true })
  jtiHash: string;

  @InstantColumn()
  expiresAt: Date;
}
