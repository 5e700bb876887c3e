import { Injectable } from '@nestjs/common';
import { ExpiringRows, Tx } from '@app/persistence';
import { UsedLogoutToken } from './used-logout-token.entity';

/** Of several deliveries of one token (retries, replays, two instances), exactly one inserts the row. */
const IF_NEW = ' ON CONFLICT (jti_hash) DO NOTHING RETURNING id';

/** The back-channel logout tokens already acted on. */
@Injectable()
export class UsedLogoutTokenRepository extends ExpiringRows<UsedLogoutToken> {
  constructor() {
    super(UsedLogoutToken, 'used_logout_tokens');
  }

  /** False when this token was acted on before. */
  async claim(tx: Tx, token: UsedLogoutToken): Promise<boolean> {
    const [insert, params] = tx.rows(UsedLogoutToken).insert(token);
    return (await tx.query(insert + IF_NEW, params)).rows.length === 1;
  }
}
