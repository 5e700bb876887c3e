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
/** Enabled people holding at least one passkey that is neither revoked nor flagged (their groups decide the rest). */
const GROUPS_OF_ACTIVE_PEOPLE =
  'SELECT u.groups FROM users u WHERE u.disabled_at IS NULL AND EXISTS ' +
  '(SELECT 1 FROM passkeys p WHERE p.user_id = u.id AND p.revoked_at IS NULL AND p.flagged_at IS NULL)';
/**
 * Arbitrary but fixed: every change that may remove an administrator takes this transaction-level lock on
 * PostgreSQL, so two admins demoting each other at the same time are decided one after the other (the second one
 * counts after the first committed). SQLite runs one unit of work at a time already.
 */
const ADMIN_CHANGE_LOCK_KEY = 7_366_300_001;

/** The user aggregate's queries: hand-written SQL on the sign-in path, TypeORM's repository API elsewhere. */
@Injectable()
export class UserRepository {
  findById(tx: Tx, id: string): Promise<User | null> {
    return tx.manager.findOneBy(User, { id });
  }

  /** `username` as stored (normalised). */
  findByUsername(tx: Tx, username: string): Promise<User | null> {
    return tx.manager.findOneBy(User, { username });
  }

  /** The account linked to this provider identity, if any. */
  findByIdentity(tx: Tx, issuer: string, subject: string): Promise<User | null> {
    return tx.manager.findOneBy(User, { idpIssuer: issuer, idpSubject: subject });
  }

  /** Everyone, by username. */
  list(tx: Tx): Promise<User[]> {
    return tx.manager.find(User, { order: { username: 'ASC' } });
  }

  async insert(tx: Tx, user: User): Promise<void> {
    await tx.manager.insert(User, user);
  }

  async update(tx: Tx, userId: string, changes: Partial<User>): Promise<void> {
    await tx.manager.update(User, { id: userId }, changes);
  }

  /** When and how the person last signed in; every kind of sign-in calls this in its unit of work. */
  async recordLogin(tx: Tx, userId: string, at: Date, method: SignInMethod): Promise<void> {
    await tx.query(RECORD_LOGIN, [tx.rows(User).param('lastLoginAt', at), method, userId]);
  }

  /** Every session and token this person holds now is refused from here on (see session-generation.ts). */
  async endSessions(tx: Tx, userId: string, reason: SessionsEndedReason, at: Date): Promise<void> {
    await tx.query(END_SESSIONS, [reason, tx.rows(User).param('sessionsEndedAt', at), userId]);
  }

  /**
   * Serialises the changes that may remove an administrator until the unit ends (PostgreSQL's transaction-level
   * advisory lock; SQLite runs one unit at a time already).
   */
  async lockAdminChanges(tx: Tx): Promise<void> {
    if (tx.dialect === 'postgres') await tx.query('SELECT pg_advisory_xact_lock(?)', [ADMIN_CHANGE_LOCK_KEY]);
  }

  /** The groups of every enabled person who can sign in (an active passkey), one list per person. */
  async groupsOfActivePeople(tx: Tx): Promise<string[][]> {
    const { rows } = await tx.query<{ groups: string }>(GROUPS_OF_ACTIVE_PEOPLE);
    return rows.map((row) => parseGroups(row.groups));
  }

  /** id → username for the given ids that are users (others are left out). */
  async usernamesByIds(tx: Tx, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const users = await tx.manager.find(User, { select: { id: true, username: true }, where: { id: In(ids) } });
    return new Map(users.map((user) => [user.id, user.username]));
  }

  /** The ids of users called `username` (as stored: normalised). */
  async idsByUsername(tx: Tx, username: string): Promise<string[]> {
    const users = await tx.manager.find(User, { select: { id: true }, where: { username } });
    return users.map((user) => user.id);
  }
}

/** A stored groups column read raw (JSON text): anything but a list of strings counts as no groups. */
function parseGroups(text: string): string[] {
  try {
    const groups: unknown = JSON.parse(text);
    return Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : [];
  } catch {
    return [];
  }
}
