import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { Passkey } from '../passkey.entity';

/** Every active passkey with its owner's groups (u_groups, JSON text): what the compliance sweep evaluates. */
const ACTIVE_WITH_GROUPS =
  'SELECT p.*, u.groups AS u_groups FROM passkeys p JOIN users u ON u.id = p.user_id WHERE p.revoked_at IS NULL';
/** The first time only: a passkey already marked keeps the time its grace period started from. */
const MARK =
  'UPDATE passkeys SET policy_non_compliant_since = ?, policy_reason = ? WHERE id = ? AND policy_non_compliant_since IS NULL';
const REASON = 'UPDATE passkeys SET policy_reason = ? WHERE id = ? AND policy_non_compliant_since IS NOT NULL';
const CLEAR =
  'UPDATE passkeys SET policy_non_compliant_since = NULL, policy_reason = NULL WHERE id = ? AND policy_non_compliant_since IS NOT NULL';
const BY_CREDENTIAL = 'SELECT * FROM passkeys WHERE credential_id = ?';

/** The authenticator policy's writes on passkeys (policy_non_compliant_since, policy_reason). */
@Injectable()
export class PolicyComplianceRepository {
  async activeWithGroups(tx: Tx): Promise<{ passkey: Passkey; groups: string[] }[]> {
    const { rows } = await tx.query(ACTIVE_WITH_GROUPS, []);
    return rows.map((row) => ({
      passkey: tx.rows(Passkey).fromRow(row),
      groups: JSON.parse(typeof row.u_groups === 'string' ? row.u_groups : '[]') as string[],
    }));
  }

  async findByCredentialId(tx: Tx, credentialId: string): Promise<Passkey | null> {
    const { rows } = await tx.query(BY_CREDENTIAL, [credentialId]);
    return rows[0] ? tx.rows(Passkey).fromRow(rows[0]) : null;
  }

  /** True when this call marked it (it was compliant until now); an already marked passkey only gets the new reason. */
  async mark(tx: Tx, passkeyId: string, reason: string, at: Date): Promise<boolean> {
    const { affected } = await tx.query(MARK, [
      tx.rows(Passkey).param('policyNonCompliantSince', at),
      reason,
      passkeyId,
    ]);
    if (affected !== 1) await tx.query(REASON, [reason, passkeyId]);
    return affected === 1;
  }

  /** True when this call cleared a mark (the policy or the person's groups allow it again). */
  async clear(tx: Tx, passkeyId: string): Promise<boolean> {
    const { affected } = await tx.query(CLEAR, [passkeyId]);
    return affected === 1;
  }
}
