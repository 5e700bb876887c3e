import { Injectable } from '@nestjs/common';
import { In } from 'typeorm';
import { Tx } from '@app/persistence';
import { SessionsEndedReason } from './session-generation';
import { SignInMethod, User } from './user.entity';

const RECORD_LOGIN = 'UPDATE users SET last_login_at = ?, last_login_method = ? WHERE id = ?';
/** An increment in SQL, not read-modify-write: two concurrent endings both count. */
const END_SESSIONS =
  'UPDATE users SET session_generation = session_generation + 1, sessions_ended_reason = ?, sessions_ended_at = ? ' +
  'WHERE id = ?';

/** The user aggregate's hand-written SQL (the sign-in path); everything else uses the repository API. */
@Injectable()
export class UserRepository {
  /** When and how the person last signed in; every kind of sign-in calls this in its unit of work. */
  async recordLogin(tx: Tx, userId: string, at: Date, method: SignInMethod): Promise<void> {
    await tx.query(RECORD_LOGIN, [tx.rows(User).param('lastLoginAt', at), method, userId]);
  }

  /** Every session and token this person holds now is refused from here on (see session-generation.ts). */
  async endSessions(tx: Tx, userId: string, reason: SessionsEndedReason, at: Date): Promise<void> {
    await tx.query(END_SESSIONS, [reason, tx.rows(User).param('sessionsEndedAt', at), userId]);
  }

  /** id → username for the given ids that are users (others are left out). */
  async usernamesByIds(tx: Tx, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const users = await tx.manager.find(User, { select: { id: true, username: true }, where: { id: In(ids) } });
    return new Map(users.map((user) => [user.id, user.username]));
  }
}
