import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { fromSql, PortableSql, SqlResult } from '@app/persistence';
import { Ceremony, Challenge } from './challenge.entity';

type NewChallenge = Pick<Challenge, 'challenge' | 'ceremony'> & Partial<Pick<Challenge, 'userId' | 'inviteId' | 'webauthnUserId' | 'allowCredentialIds'>>;

const INSERT =
  'INSERT INTO challenges (id, challenge, ceremony, user_id, invite_id, webauthn_user_id, allow_credential_ids, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)';
/** Read and delete in one statement: of several requests presenting one challenge, exactly one gets the row. */
const TAKE =
  'DELETE FROM challenges WHERE challenge = ? AND ceremony = ? RETURNING id, challenge, ceremony, user_id, invite_id, webauthn_user_id, allow_credential_ids, created_at, expires_at';

@Injectable()
export class ChallengeStoreService {
  constructor(
    @InjectRepository(Challenge) private readonly challenges: Repository<Challenge>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private get sql(): PortableSql {
    return PortableSql.of(this.challenges.manager.connection);
  }

  async save(input: NewChallenge): Promise<void> {
    const now = Date.now();
    await this.sql.transaction([{ sql: INSERT, params: [
      randomUUID(),
      input.challenge,
      input.ceremony,
      input.userId ?? null,
      input.inviteId ?? null,
      input.webauthnUserId ?? null,
      JSON.stringify(input.allowCredentialIds ?? []),
      now,
      now + this.config.webauthn.challengeTtlSeconds * 1000,
    ] }]);
  }

  /**
   * Takes a challenge out of the store. The DELETE ... RETURNING is the atomic step: when several requests present
   * the same challenge, only one of them gets the row back, and only that one proceeds. A challenge past its
   * expiry is consumed all the same (it can never be used again) and refused.
   */
  async consume(challenge: string, ceremony: Ceremony): Promise<Challenge> {
    const [{ rows }] = (await this.sql.transaction([{ sql: TAKE, params: [challenge, ceremony] }])) as [SqlResult];
    const row = rows[0];
    if (!row) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt is unknown or was already used; start again', 'challenge_unknown');
    }
    const taken = toChallenge(row);
    if (taken.expiresAt.getTime() <= Date.now()) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt expired; start again', 'challenge_expired');
    }
    return taken;
  }

  async purgeExpired(now = new Date()): Promise<number> {
    const result = await this.challenges.delete({ expiresAt: LessThan(now) });
    return result.affected ?? 0;
  }
}

function toChallenge(row: Record<string, unknown>): Challenge {
  return Object.assign(new Challenge(), {
    id: row.id as string,
    challenge: row.challenge as string,
    ceremony: row.ceremony as Ceremony,
    userId: (row.user_id as string | null) ?? null,
    inviteId: (row.invite_id as string | null) ?? null,
    webauthnUserId: (row.webauthn_user_id as string | null) ?? null,
    allowCredentialIds: fromSql.json<string[]>(row.allow_credential_ids),
    createdAt: fromSql.instant(row.created_at)!,
    expiresAt: fromSql.instant(row.expires_at)!,
  });
}
