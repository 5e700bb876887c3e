import { Injectable } from '@nestjs/common';
import { User } from '@app/accounts';
import { Tx } from '@app/persistence';
import { Passkey } from '@app/webauthn';
import { CliSignIn } from './cli-sign-in.entity';

/** Of several requests presenting the same code, exactly one sets `used_at` (the others match no row). */
const REDEEM =
  'UPDATE cli_sign_ins SET used_at = ?, last_used_at = ?, used_from = ?, client = ? ' +
  'WHERE code_hash = ? AND user_id = (SELECT id FROM users WHERE username = ? AND disabled_at IS NULL) ' +
  'AND used_at IS NULL AND revoked_at IS NULL AND expires_at >= ? RETURNING *';
const FIND_CODE =
  'SELECT c.* FROM cli_sign_ins c JOIN users u ON u.id = c.user_id WHERE u.username = ? AND c.code_hash = ?';
/** The person and the confirming passkey behind a redeemed code, as they are now; passkey columns carry `p_`. */
const HOLDER =
  'SELECT u.*, p.id AS p_id, p.device_type AS p_device_type, p.revoked_at AS p_revoked_at, p.flagged_at AS p_flagged_at ' +
  'FROM users u JOIN passkeys p ON p.id = ? AND p.user_id = u.id WHERE u.id = ?';
const REVOKE = 'UPDATE cli_sign_ins SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL RETURNING *';
/** Pending codes still usable and command lines signed in, not revoked: what a person (and Airflow) may rely on. */
const LIVE =
  'SELECT * FROM cli_sign_ins WHERE user_id = ? AND revoked_at IS NULL AND (used_at IS NOT NULL OR expires_at >= ?) ORDER BY created_at';
/** Moves a signed-in command line's last use forward (never back: re-checks from several api-servers interleave). */
const SEEN =
  'UPDATE cli_sign_ins SET last_used_at = ? WHERE id = ? AND user_id = ? AND used_at IS NOT NULL AND revoked_at IS NULL ' +
  'AND (last_used_at IS NULL OR last_used_at < ?)';
/** A person's codes that expired unused: kept no longer than the next code they create. */
const DROP_EXPIRED_CODES = 'DELETE FROM cli_sign_ins WHERE user_id = ? AND used_at IS NULL AND expires_at < ?';

/** The one-time CLI codes and the command lines they signed in. */
@Injectable()
export class CliSignInRepository {
  async insert(tx: Tx, row: CliSignIn): Promise<void> {
    await tx.query(...tx.rows(CliSignIn).insert(row));
    await tx.query(DROP_EXPIRED_CODES, [row.userId, tx.rows(CliSignIn).param('expiresAt', row.createdAt)]);
  }

  /** Marks the code used if it is pending, unexpired and belongs to this (enabled) username; null otherwise. */
  async redeem(
    tx: Tx,
    username: string,
    codeHash: string,
    use: { at: Date; from: string | null; client: string | null },
  ): Promise<CliSignIn | null> {
    const rows = tx.rows(CliSignIn);
    const at = rows.param('usedAt', use.at);
    const params = [at, at, use.from, use.client, codeHash, username, rows.param('expiresAt', use.at)];
    const result = await tx.query(REDEEM, params);
    return result.rows[0] ? rows.fromRow(result.rows[0]) : null;
  }

  /** The username's row for a code whatever its state (to record why it was refused). */
  async findCode(tx: Tx, username: string, codeHash: string): Promise<CliSignIn | null> {
    const { rows } = await tx.query(FIND_CODE, [username, codeHash]);
    return rows[0] ? tx.rows(CliSignIn).fromRow(rows[0]) : null;
  }

  /** The code's person and confirming passkey; null when either is gone. */
  async holder(
    tx: Tx,
    signIn: CliSignIn,
  ): Promise<{ user: User; passkey: Pick<Passkey, 'id' | 'deviceType' | 'revokedAt' | 'flaggedAt'> } | null> {
    const { rows } = await tx.query(HOLDER, [signIn.passkeyId, signIn.userId]);
    if (!rows[0]) return null;
    return { user: tx.rows(User).fromRow(rows[0]), passkey: tx.rows(Passkey).fromRow(rows[0], 'p_') };
  }

  async revoke(tx: Tx, userId: string, id: string, at: Date): Promise<CliSignIn | null> {
    const { rows } = await tx.query(REVOKE, [tx.rows(CliSignIn).param('revokedAt', at), id, userId]);
    return rows[0] ? tx.rows(CliSignIn).fromRow(rows[0]) : null;
  }

  async seen(tx: Tx, userId: string, id: string, at: Date): Promise<void> {
    const param = tx.rows(CliSignIn).param('lastUsedAt', at);
    await tx.query(SEEN, [param, id, userId, param]);
  }

  async live(tx: Tx, userId: string, now: Date): Promise<CliSignIn[]> {
    const { rows } = await tx.query(LIVE, [userId, tx.rows(CliSignIn).param('expiresAt', now)]);
    return rows.map((row) => tx.rows(CliSignIn).fromRow(row));
  }
}
