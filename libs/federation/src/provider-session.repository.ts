import { Injectable } from '@nestjs/common';
import { ExpiringRows, Tx } from '@app/persistence';
import { ProviderSession } from './provider-session.entity';

/**
 * A second sign-in in the same provider session refreshes the row (and, should the provider ever reuse a sid for
 * someone else, the newest sign-in owns it: never two people behind one sid). Appended to the entity's INSERT.
 */
const ON_SID_CONFLICT =
  ' ON CONFLICT (idp_issuer, sid) DO UPDATE SET user_id = excluded.user_id, created_at = excluded.created_at, expires_at = excluded.expires_at';
const PRUNE_PERSON = 'DELETE FROM idp_sessions WHERE user_id = ? AND expires_at < ?';
/** The provider's subject of the person a live sid belongs to (the link users.idp_issuer/idp_subject is theirs). */
const FIND_SUBJECT =
  'SELECT u.idp_subject AS subject FROM idp_sessions s JOIN users u ON u.id = s.user_id ' +
  'WHERE s.idp_issuer = ? AND s.sid = ? AND s.expires_at >= ? AND u.idp_issuer = s.idp_issuer';
const FORGET_PERSON =
  'DELETE FROM idp_sessions WHERE user_id IN (SELECT id FROM users WHERE idp_issuer = ? AND idp_subject = ?)';

/** Provider sessions (sid → person), recorded at sign-in and read by back-channel logout. */
@Injectable()
export class ProviderSessionRepository extends ExpiringRows<ProviderSession> {
  constructor() {
    super(ProviderSession, 'idp_sessions');
  }

  /** Records the sid of a sign-in, and drops the person's expired ones (a person's rows stay few). */
  async record(tx: Tx, session: ProviderSession): Promise<void> {
    const [insert, params] = tx.rows(ProviderSession).insert(session);
    await tx.query(insert + ON_SID_CONFLICT, params);
    await tx.query(PRUNE_PERSON, [session.userId, tx.rows(ProviderSession).param('expiresAt', session.createdAt)]);
  }

  async subjectOf(tx: Tx, issuer: string, sid: string, now: Date): Promise<string | null> {
    const { rows } = await tx.query<{ subject: string | null }>(FIND_SUBJECT, [
      issuer,
      sid,
      tx.rows(ProviderSession).param('expiresAt', now),
    ]);
    return rows[0]?.subject ?? null;
  }

  /** Every sid of a person whose sessions just ended: a later logout for one of them must not end a newer session. */
  async forgetPerson(tx: Tx, issuer: string, subject: string): Promise<number> {
    return (await tx.query(FORGET_PERSON, [issuer, subject])).affected;
  }
}
