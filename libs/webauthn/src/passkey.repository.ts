import { Injectable } from '@nestjs/common';
import { User } from '@app/accounts';
import { IsNull, Not } from 'typeorm';
import { Tx } from '@app/persistence';
import { Passkey } from './passkey.entity';

/** A user's active passkeys; one row with a NULL credential when the user has none, no row for an unknown name. */
const ALLOWED_CREDENTIALS =
  'SELECT u.id AS user_id, p.credential_id, p.transports FROM users u LEFT JOIN passkeys p ON p.user_id = u.id AND p.revoked_at IS NULL WHERE u.username = ? ORDER BY p.created_at';
/** The credential and its owner in one read; the owner's columns carry a `u_` prefix. */
const CREDENTIAL_WITH_OWNER =
  'SELECT p.*, u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, u.groups AS u_groups, u.webauthn_user_id AS u_webauthn_user_id, ' +
  'u.disabled_at AS u_disabled_at, u.session_generation AS u_session_generation ' +
  'FROM passkeys p LEFT JOIN users u ON u.id = p.user_id WHERE p.credential_id = ?';
/**
 * Compare-and-set on the counter: if another sign-in with this passkey committed first, or the passkey was revoked or
 * flagged since it was read, this one changes nothing.
 */
const ADVANCE_COUNTER =
  'UPDATE passkeys SET counter = ?, last_used_at = ?, backed_up = ? WHERE id = ? AND counter = ? AND revoked_at IS NULL AND flagged_at IS NULL';
/** Every enrolled person's current passkeys (as allowedCredentials lists them), people in enrollment order. */
const ENROLLED_CREDENTIALS =
  'SELECT u.id AS user_id, p.credential_id, p.transports FROM users u JOIN passkeys p ON p.user_id = u.id AND p.revoked_at IS NULL ORDER BY u.created_at, u.id, p.created_at';
const FLAG = 'UPDATE passkeys SET flagged_at = ?, flag_reason = ? WHERE id = ? AND flagged_at IS NULL';

export interface AllowedCredentials {
  userId: string;
  credentials: Pick<Passkey, 'credentialId' | 'transports'>[];
}

/** The passkey aggregate's queries: constant SQL on the sign-in path, TypeORM's repository API elsewhere. */
@Injectable()
export class PasskeyRepository {
  /** The active credentials of a user, or null for an unknown username. */
  async allowedCredentials(tx: Tx, username: string): Promise<AllowedCredentials | null> {
    const { rows } = await tx.query(ALLOWED_CREDENTIALS, [username]);
    if (!rows[0]) return null;
    const credentials = rows.filter((r) => r.credential_id != null).map((r) => tx.rows(Passkey).fromRow(r));
    return { userId: rows[0].user_id as string, credentials };
  }

  /**
   * Every person's active credentials (id and transports, as allowedCredentials lists them), people in enrollment
   * order and each one's passkeys in theirs: what the decoy options of unknown usernames are shaped after.
   */
  async enrolledCredentials(tx: Tx): Promise<Array<{ userId: string; credentialId: string; transports: string[] }>> {
    const { rows } = await tx.query<{ user_id: string; credential_id: string; transports: string }>(
      ENROLLED_CREDENTIALS,
    );
    return rows.map((row) => ({
      userId: row.user_id,
      credentialId: row.credential_id,
      transports: JSON.parse(row.transports) as string[],
    }));
  }

  async findWithOwner(tx: Tx, credentialId: string): Promise<{ passkey: Passkey; owner: User | null } | null> {
    const { rows } = await tx.query(CREDENTIAL_WITH_OWNER, [credentialId]);
    const row = rows[0];
    if (!row) return null;
    return {
      passkey: tx.rows(Passkey).fromRow(row),
      owner: row.u_id == null ? null : tx.rows(User).fromRow(row, 'u_'),
    };
  }

  /** True when the stored counter was still `expected` and now is `next`; false when another sign-in got there first. */
  async advanceCounter(
    tx: Tx,
    passkey: Pick<Passkey, 'id'>,
    expected: number,
    next: { counter: number; backedUp: boolean; at: Date },
  ): Promise<boolean> {
    const p = tx.rows(Passkey);
    const { affected } = await tx.query(ADVANCE_COUNTER, [
      p.param('counter', next.counter),
      p.param('lastUsedAt', next.at),
      p.param('backedUp', next.backedUp),
      passkey.id,
      p.param('counter', expected),
    ]);
    return affected === 1;
  }

  /** True when this call flagged it (a passkey already flagged keeps its first reason and time). */
  async flag(tx: Tx, passkeyId: string, reason: string, at: Date): Promise<boolean> {
    const { affected } = await tx.query(FLAG, [tx.rows(Passkey).param('flaggedAt', at), reason, passkeyId]);
    return affected === 1;
  }

  findById(tx: Tx, id: string): Promise<Passkey | null> {
    return tx.manager.findOneBy(Passkey, { id });
  }

  /** A user's passkeys, oldest first; the revoked ones too unless `activeOnly`. */
  listForUser(tx: Tx, userId: string, activeOnly: boolean): Promise<Passkey[]> {
    return tx.manager.find(Passkey, {
      where: activeOnly ? { userId, revokedAt: IsNull() } : { userId },
      order: { createdAt: 'ASC' },
    });
  }

  /** A user's active passkeys (no order). */
  activeOf(tx: Tx, userId: string): Promise<Passkey[]> {
    return tx.manager.findBy(Passkey, { userId, revokedAt: IsNull() });
  }

  countActiveOf(tx: Tx, userId: string): Promise<number> {
    return tx.manager.countBy(Passkey, { userId, revokedAt: IsNull() });
  }

  existsByCredentialId(tx: Tx, credentialId: string): Promise<boolean> {
    return tx.manager.existsBy(Passkey, { credentialId });
  }

  async insert(tx: Tx, passkey: Passkey): Promise<void> {
    await tx.manager.insert(Passkey, passkey);
  }

  async rename(tx: Tx, id: string, label: string): Promise<void> {
    await tx.manager.update(Passkey, { id }, { label });
  }

  /** True when this call revoked it; false when it was already revoked. */
  async revoke(tx: Tx, id: string, at: Date): Promise<boolean> {
    const { affected } = await tx.manager.update(Passkey, { id, revokedAt: IsNull() }, { revokedAt: at });
    return affected === 1;
  }

  /** True when this call lifted the flag; false when the passkey is no longer flagged, or was revoked meanwhile. */
  async unflag(tx: Tx, id: string): Promise<boolean> {
    const { affected } = await tx.manager.update(
      Passkey,
      { id, flaggedAt: Not(IsNull()), revokedAt: IsNull() },
      { flaggedAt: null, flagReason: null },
    );
    return affected === 1;
  }
}
