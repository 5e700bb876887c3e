import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { Ceremony, Challenge } from './challenge.entity';

const COLUMNS: (keyof Challenge & string)[] = ['id', 'challenge', 'ceremony', 'userId', 'inviteId', 'webauthnUserId', 'allowCredentialIds', 'requireUserVerification', 'createdAt', 'expiresAt'];
const INSERT =
  'INSERT INTO challenges (id, challenge, ceremony, user_id, invite_id, webauthn_user_id, allow_credential_ids, require_user_verification, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** Read and delete in one statement: of several requests presenting one challenge, exactly one gets the row. */
const TAKE = 'DELETE FROM challenges WHERE challenge = ? AND ceremony = ? RETURNING *';
const PURGE = 'DELETE FROM challenges WHERE expires_at < ?';

/** The pending-ceremony aggregate's SQL. */
@Injectable()
export class ChallengeRepository {
  async insert(tx: Tx, challenge: Challenge): Promise<void> {
    await tx.query(INSERT, tx.rows(Challenge).params(challenge, COLUMNS));
  }

  async take(tx: Tx, challenge: string, ceremony: Ceremony): Promise<Challenge | null> {
    const { rows } = await tx.query(TAKE, [challenge, ceremony]);
    return rows[0] ? tx.rows(Challenge).fromRow(rows[0]) : null;
  }

  async purgeExpired(tx: Tx, now: Date): Promise<number> {
    return (await tx.query(PURGE, [tx.rows(Challenge).param('expiresAt', now)])).affected;
  }
}
