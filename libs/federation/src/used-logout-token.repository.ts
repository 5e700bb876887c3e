import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { UsedLogoutToken } from './used-logout-token.entity';

/** Of several deliveries of one token (retries, replays, two instances), exactly one inserts the row. */
const IF_NEW = ' ON CONFLICT (jti_hash) DO NOTHING RETURNING id';
const PURGE = 'DELETE FROM used_logout_tokens WHERE expires_at < ?';

/** The back-channel logout tokens already acted on. */
@Injectable()
export class UsedLogoutTokenRepository {
  /** False when this token was acted on before. */
  async claim(tx: Tx, token: UsedLogoutToken): Promise<boolean> {
    const [insert, params] = tx.rows(UsedLogoutToken).insert(token);
    return (await tx.query(insert + IF_NEW, params)).rows.length === 1;
  }

  async purgeExpired(tx: Tx, now: Date): Promise<number> {
    return (await tx.query(PURGE, [tx.rows(UsedLogoutToken).param('expiresAt', now)])).affected;
  }
}
