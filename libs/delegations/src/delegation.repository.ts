import { Injectable } from '@nestjs/common';
import { ServiceAccount, User } from '@app/accounts';
import { Tx } from '@app/persistence';
import { Passkey } from '@app/webauthn';
import { Delegation } from './delegation.entity';
import { DelegationRefreshToken } from './delegation-refresh-token.entity';

/**
 * A delegation with everything its liveness depends on, as it is now: the person (`u_`), the agent (`a_`), the
 * approving passkey (`p_`) and, for a sub-agent, the parent delegation and its agent (`pd_`, `pa_`).
 */
const HOLDERS =
  'SELECT d.*, ' +
  'u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, u.groups AS u_groups, ' +
  'u.disabled_at AS u_disabled_at, u.session_generation AS u_session_generation, ' +
  'a.id AS a_id, a.name AS a_name, a.client_id AS a_client_id, a.disabled_at AS a_disabled_at, a.agent AS a_agent, ' +
  'a.session_generation AS a_session_generation, ' +
  'p.id AS p_id, p.user_id AS p_user_id, p.revoked_at AS p_revoked_at, p.flagged_at AS p_flagged_at, ' +
  'pd.id AS pd_id, pd.expires_at AS pd_expires_at, pd.revoked_at AS pd_revoked_at, pd.agent_client_id AS pd_agent_client_id, ' +
  'pd.agent_generation AS pd_agent_generation, pa.disabled_at AS pa_disabled_at, pa.session_generation AS pa_session_generation ' +
  'FROM delegations d JOIN users u ON u.id = d.user_id JOIN service_accounts a ON a.id = d.agent_id ' +
  'LEFT JOIN passkeys p ON p.id = d.passkey_id ' +
  'LEFT JOIN delegations pd ON pd.id = d.parent_id LEFT JOIN service_accounts pa ON pa.id = pd.agent_id ';
/** A revocation ends the delegation and every sub-agent's share of it. */
const REVOKE =
  'UPDATE delegations SET revoked_at = ?, revoked_by = ?, revoked_reason = ? ' +
  'WHERE (id = ? OR parent_id = ?) AND revoked_at IS NULL RETURNING id';
/** Of several requests presenting the same refresh token, exactly one marks it used. */
const USE_REFRESH =
  'UPDATE delegation_refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL RETURNING *';
const FIND_REFRESH = 'SELECT * FROM delegation_refresh_tokens WHERE token_hash = ?';
/** When the agent last refreshed under each delegation (a refresh token's use is a new access token). */
const LAST_REFRESHED =
  'SELECT delegation_id, MAX(used_at) AS used_at FROM delegation_refresh_tokens ' +
  'WHERE used_at IS NOT NULL AND delegation_id IN ';

export interface DelegationHolders {
  delegation: Delegation;
  user: User;
  agent: ServiceAccount;
  /** Null when the approving passkey is gone. */
  passkey: Pick<Passkey, 'id' | 'userId' | 'revokedAt' | 'flaggedAt'> | null;
  /** A sub-agent's parent delegation (its agent's disabled_at as `parentAgentDisabledAt`). */
  parent:
    | (Pick<Delegation, 'id' | 'expiresAt' | 'revokedAt' | 'agentClientId' | 'agentGeneration'> & {
        agentDisabledAt: Date | null;
        /** The parent agent's session generation now (compared with the parent's `agentGeneration`). */
        agentSessionGeneration: number;
      })
    | null;
}

/** The delegations and their refresh tokens: every query of the domain. */
@Injectable()
export class DelegationRepository {
  async insert(tx: Tx, row: Delegation): Promise<void> {
    await tx.query(...tx.rows(Delegation).insert(row));
  }

  async holders(tx: Tx, id: string): Promise<DelegationHolders | null> {
    return (await this.holdersWhere(tx, 'WHERE d.id = ?', [id]))[0] ?? null;
  }

  /** A person's delegations (newest first), including ended ones so they see what ended and why. */
  forUser(tx: Tx, userId: string): Promise<DelegationHolders[]> {
    return this.holdersWhere(tx, 'WHERE d.user_id = ? ORDER BY d.created_at DESC', [userId]);
  }

  forAgent(tx: Tx, agentId: string): Promise<DelegationHolders[]> {
    return this.holdersWhere(tx, 'WHERE d.agent_id = ? ORDER BY d.created_at DESC', [agentId]);
  }

  /** Not revoked and not expired (other reasons for an end are decided from the holders). */
  unrevoked(tx: Tx, now: Date): Promise<DelegationHolders[]> {
    const at = tx.rows(Delegation).param('expiresAt', now);
    return this.holdersWhere(tx, 'WHERE d.revoked_at IS NULL AND d.expires_at > ? ORDER BY d.created_at DESC', [at]);
  }

  /** The ids revoked now (the delegation and its sub-agents' shares); empty when it was revoked already. */
  async revoke(tx: Tx, id: string, at: Date, by: string, reason: string): Promise<string[]> {
    const params = [tx.rows(Delegation).param('revokedAt', at), by.slice(0, 128), reason, id, id];
    const { rows } = await tx.query(REVOKE, params);
    return rows.map((row) => String(row.id));
  }

  async insertRefreshToken(tx: Tx, row: DelegationRefreshToken): Promise<void> {
    await tx.query(...tx.rows(DelegationRefreshToken).insert(row));
  }

  /** Marks the refresh token used and returns it; null when it is unknown or was used before. */
  async useRefreshToken(tx: Tx, tokenHash: string, at: Date): Promise<DelegationRefreshToken | null> {
    const rows = tx.rows(DelegationRefreshToken);
    const result = await tx.query(USE_REFRESH, [rows.param('usedAt', at), tokenHash]);
    return result.rows[0] ? rows.fromRow(result.rows[0]) : null;
  }

  async findRefreshToken(tx: Tx, tokenHash: string): Promise<DelegationRefreshToken | null> {
    const { rows } = await tx.query(FIND_REFRESH, [tokenHash]);
    return rows[0] ? tx.rows(DelegationRefreshToken).fromRow(rows[0]) : null;
  }

  /** Delegation id → when its agent last refreshed (absent: never); for the admin's list, not the hot path. */
  async lastRefreshed(tx: Tx, ids: readonly string[]): Promise<Map<string, Date>> {
    const found = new Map<string, Date>();
    const rows = tx.rows(DelegationRefreshToken);
    // Bounded batches: SQLite and PostgreSQL both cap the number of parameters of one statement.
    for (let i = 0; i < ids.length; i += 500) {
      const batch = ids.slice(i, i + 500);
      const { rows: results } = await tx.query(
        `${LAST_REFRESHED}(${batch.map(() => '?').join(', ')}) GROUP BY delegation_id`,
        batch,
      );
      for (const row of results) {
        const at = rows.fromRow(row).usedAt;
        if (at) found.set(String(row.delegation_id), at);
      }
    }
    return found;
  }

  private async holdersWhere(tx: Tx, where: string, params: unknown[]): Promise<DelegationHolders[]> {
    const { rows } = await tx.query(HOLDERS + where, params);
    return rows.map((row) => ({
      delegation: tx.rows(Delegation).fromRow(row),
      user: tx.rows(User).fromRow(row, 'u_'),
      agent: tx.rows(ServiceAccount).fromRow(row, 'a_'),
      passkey: row.p_id == null ? null : tx.rows(Passkey).fromRow(row, 'p_'),
      parent:
        row.pd_id == null
          ? null
          : {
              ...tx.rows(Delegation).fromRow(row, 'pd_'),
              agentDisabledAt: tx.rows(ServiceAccount).fromRow(row, 'pa_').disabledAt ?? null,
              agentSessionGeneration: tx.rows(ServiceAccount).fromRow(row, 'pa_').sessionGeneration ?? 0,
            },
    }));
  }
}
