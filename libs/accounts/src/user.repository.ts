import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { SignInMethod, User } from './user.entity';

const RECORD_LOGIN = 'UPDATE users SET last_login_at = ?, last_login_method = ? WHERE id = ?';

/** The user aggregate's hand-written SQL (the sign-in path); everything else uses the repository API. */
@Injectable()
export class UserRepository {
  /** When and how the person last signed in; every kind of sign-in calls this in its unit of work. */
  async recordLogin(tx: Tx, userId: string, at: Date, method: SignInMethod): Promise<void> {
    await tx.query(RECORD_LOGIN, [tx.rows(User).param('lastLoginAt', at), method, userId]);
  }
}
