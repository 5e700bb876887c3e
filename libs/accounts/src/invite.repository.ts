import { Injectable } from '@nestjs/common';
import { IsNull, MoreThan } from 'typeorm';
import { Tx } from '@app/persistence';
import { Invite } from './invite.entity';

/**
 * Redeems an invite: of two enrollments racing on one invite exactly one changes the row, and an invite that expired
 * (or was revoked) since the ceremony began changes nothing. Expiry is decided here, at commit, not only when the
 * ceremony's options were handed out.
 */
const MARK_USED =
  'UPDATE invites SET used_at = ?, user_id = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL AND expires_at > ?';

/** The invite aggregate's queries. */
@Injectable()
export class InviteRepository {
  findById(tx: Tx, id: string): Promise<Invite | null> {
    return tx.manager.findOneBy(Invite, { id });
  }

  findByTokenHash(tx: Tx, tokenHash: string): Promise<Invite | null> {
    return tx.manager.findOneBy(Invite, { tokenHash });
  }

  /** The newest invites first, at most `limit`. */
  listNewest(tx: Tx, limit: number): Promise<Invite[]> {
    return tx.manager.find(Invite, { order: { createdAt: 'DESC' }, take: limit });
  }

  /** One user's invites that are neither used nor revoked (expiry is the caller's rule, decided at its own now). */
  openFor(tx: Tx, userId: string): Promise<Invite[]> {
    return tx.manager.findBy(Invite, { userId, usedAt: IsNull(), revokedAt: IsNull() });
  }

  async insert(tx: Tx, invite: Invite): Promise<void> {
    await tx.manager.insert(Invite, invite);
  }

  async markRevoked(tx: Tx, inviteId: string, at: Date): Promise<void> {
    await tx.manager.update(Invite, { id: inviteId }, { revokedAt: at });
  }

  /** True when the invite was pending at `now` and is now used by `userId`. */
  async markUsed(tx: Tx, inviteId: string, userId: string, now: Date): Promise<boolean> {
    const rows = tx.rows(Invite);
    const { affected } = await tx.query(MARK_USED, [
      rows.param('usedAt', now),
      userId,
      inviteId,
      rows.param('expiresAt', now),
    ]);
    return affected === 1;
  }

  /**
   * Whether a pending invite for a NEW person holds `username` at `now`: the name is theirs until the invite is used,
   * revoked or expires, so no provider sign-in may create an account under it meanwhile.
   */
  async holdsUsername(tx: Tx, username: string, now: Date): Promise<boolean> {
    const pending = { usedAt: IsNull(), revokedAt: IsNull(), expiresAt: MoreThan(now) };
    return tx.manager.existsBy(Invite, { username, userId: IsNull(), ...pending });
  }
}
