import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EntityRows, Tx } from '@app/persistence';
import { Invite } from './invite.entity';

/**
 * Redeems an invite: of two enrollments racing on one invite exactly one changes the row, and an invite that expired
 * (or was revoked) since the ceremony began changes nothing. Expiry is decided here, at commit, not only when the
 * ceremony's options were handed out.
 */
const MARK_USED = 'UPDATE invites SET used_at = ?, user_id = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?';

/** The invite aggregate's SQL. */
@Injectable()
export class InviteRepository {
  private readonly rows: EntityRows<Invite>;

  constructor(dataSource: DataSource) {
    this.rows = new EntityRows(dataSource, Invite);
  }

  /** True when the invite was pending at `now` and is now used by `userId`. */
  async markUsed(tx: Tx, inviteId: string, userId: string, now: Date): Promise<boolean> {
    const at = this.rows.param('usedAt', now);
    const { affected } = await tx.query(MARK_USED, [at, userId, inviteId, this.rows.param('expiresAt', now)]);
    return affected === 1;
  }
}
