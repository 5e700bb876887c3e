import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { DeviceAuthorization } from './device-authorization.entity';

/** Rows kept this long after they expire, so the approval page can still say "expired" rather than "unknown". */
const KEEP_AFTER_EXPIRY_MS = 3600_000;

const PURGE = 'DELETE FROM device_authorizations WHERE expires_at < ?';
const BY_DEVICE_CODE = 'SELECT * FROM device_authorizations WHERE device_code_hash = ?';
const BY_USER_CODE = 'SELECT * FROM device_authorizations WHERE user_code = ?';
/**
 * A poll is recorded only if nobody polled since the value read (compare-and-set): of two polls at once, one is
 * the poll and the other is too soon, on SQLite and PostgreSQL alike.
 */
const POLLED_AFTER_NONE = 'UPDATE device_authorizations SET last_polled_at = ? WHERE id = ? AND last_polled_at IS NULL';
const POLLED_AFTER = 'UPDATE device_authorizations SET last_polled_at = ? WHERE id = ? AND last_polled_at = ?';
const SLOW_DOWN =
  'UPDATE device_authorizations SET interval_seconds = interval_seconds + 5, last_polled_at = ? WHERE id = ?';
/** Of several exchanges of one approved device code, exactly one matches. */
const EXCHANGE =
  'UPDATE device_authorizations SET exchanged_at = ?, cli_sign_in_id = ? ' +
  'WHERE id = ? AND approved_at IS NOT NULL AND denied_at IS NULL AND exchanged_at IS NULL RETURNING *';
/** A decision is taken once, on a pending request that has not expired; the first decision wins. */
const APPROVE =
  'UPDATE device_authorizations SET approved_at = ?, user_id = ?, passkey_id = ?, days = ?, decided_from = ? ' +
  'WHERE user_code = ? AND approved_at IS NULL AND denied_at IS NULL AND expires_at >= ? RETURNING *';
const DENY =
  'UPDATE device_authorizations SET denied_at = ?, user_id = ?, decided_from = ? ' +
  'WHERE user_code = ? AND approved_at IS NULL AND denied_at IS NULL AND expires_at >= ? RETURNING *';

export interface DeviceDecision {
  at: Date;
  userId: string;
  /** The confirming passkey (approvals only). */
  passkeyId?: string;
  /** An agent's approval: for how many days (checked by the caller against DELEGATION_MAX_DAYS). */
  days?: number;
  from: string | null;
}

/** Device authorization requests (RFC 8628): asked for, decided by a person, polled for and exchanged once. */
@Injectable()
export class DeviceAuthorizationRepository {
  /** Inserts a request, and first deletes the ones that expired more than an hour ago (the table stays small). */
  async insert(tx: Tx, row: DeviceAuthorization): Promise<void> {
    const rows = tx.rows(DeviceAuthorization);
    await tx.query(PURGE, [rows.param('expiresAt', new Date(row.requestedAt.getTime() - KEEP_AFTER_EXPIRY_MS))]);
    await tx.query(...rows.insert(row));
  }

  async byDeviceCode(tx: Tx, deviceCodeHash: string): Promise<DeviceAuthorization | null> {
    const { rows } = await tx.query(BY_DEVICE_CODE, [deviceCodeHash]);
    return rows[0] ? tx.rows(DeviceAuthorization).fromRow(rows[0]) : null;
  }

  async byUserCode(tx: Tx, userCode: string): Promise<DeviceAuthorization | null> {
    const { rows } = await tx.query(BY_USER_CODE, [userCode]);
    return rows[0] ? tx.rows(DeviceAuthorization).fromRow(rows[0]) : null;
  }

  /** Records a poll at `at` if the last poll is still the one `row` was read with; false when another came first. */
  async recordPoll(tx: Tx, row: DeviceAuthorization, at: Date): Promise<boolean> {
    const rows = tx.rows(DeviceAuthorization);
    const when = rows.param('lastPolledAt', at);
    const result = row.lastPolledAt
      ? await tx.query(POLLED_AFTER, [when, row.id, rows.param('lastPolledAt', row.lastPolledAt)])
      : await tx.query(POLLED_AFTER_NONE, [when, row.id]);
    return result.affected === 1;
  }

  async slowDown(tx: Tx, id: string, at: Date): Promise<void> {
    await tx.query(SLOW_DOWN, [tx.rows(DeviceAuthorization).param('lastPolledAt', at), id]);
  }

  /** Marks an approved request exchanged (naming the command line it signs in); null if it was already. */
  /** @param cliSignInId the command line signed in; null for an agent's request (its delegation records it). */
  async exchange(tx: Tx, id: string, at: Date, cliSignInId: string | null): Promise<DeviceAuthorization | null> {
    const rows = tx.rows(DeviceAuthorization);
    const { rows: changed } = await tx.query(EXCHANGE, [rows.param('exchangedAt', at), cliSignInId, id]);
    return changed[0] ? rows.fromRow(changed[0]) : null;
  }

  /** Approves or denies a pending, unexpired request; null when there is none with this user code. */
  async decide(
    tx: Tx,
    userCode: string,
    decision: 'approve' | 'deny',
    by: DeviceDecision,
  ): Promise<DeviceAuthorization | null> {
    const rows = tx.rows(DeviceAuthorization);
    const at = rows.param('approvedAt', by.at);
    const now = rows.param('expiresAt', by.at);
    const result =
      decision === 'approve'
        ? await tx.query(APPROVE, [at, by.userId, by.passkeyId ?? null, by.days ?? null, by.from, userCode, now])
        : await tx.query(DENY, [at, by.userId, by.from, userCode, now]);
    return result.rows[0] ? rows.fromRow(result.rows[0]) : null;
  }
}
