import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { Tx } from '@app/persistence';
import { User } from './user.entity';

const RECORD_LOGIN = 'UPDATE users SET last_login_at = ? WHERE id = ?';

/** The user aggregate's hand-written SQL (the sign-in path); everything else uses the repository API. */
@Injectable()
export class UserRepository {
  async recordLogin(tx: Tx, userId: string, at: Date): Promise<void> {
    await tx.query(RECORD_LOGIN, [tx.rows(User).param('lastLoginAt', at), userId]);
  }

  /** id → username for the given ids that are users (others are left out). */
  async usernamesByIds(tx: Tx, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const users = await tx.manager.find(User, { select: { id: true, username: true }, where: { id: In(ids) } });
    return new Map(users.map((user) => [user.id, user.username]));
  }
}
