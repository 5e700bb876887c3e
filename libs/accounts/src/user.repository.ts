import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { User } from './user.entity';

const RECORD_LOGIN = 'UPDATE users SET last_login_at = ? WHERE id = ?';

/** The user aggregate's hand-written SQL (the sign-in path); everything else uses the repository API. */
@Injectable()
export class UserRepository {
  async recordLogin(tx: Tx, userId: string, at: Date): Promise<void> {
    await tx.query(RECORD_LOGIN, [tx.rows(User).param('lastLoginAt', at), userId]);
  }
}
