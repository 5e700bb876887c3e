import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { LessThan, Repository } from 'typeorm';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Ceremony, Challenge } from './challenge.entity';

type NewChallenge = Pick<Challenge, 'challenge' | 'ceremony'> & Partial<Pick<Challenge, 'userId' | 'inviteId' | 'webauthnUserId' | 'allowCredentialIds'>>;

@Injectable()
export class ChallengeStoreService {
  constructor(
    @InjectRepository(Challenge) private readonly challenges: Repository<Challenge>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async save(input: NewChallenge): Promise<void> {
    const now = new Date();
    await this.challenges.insert({
      id: randomUUID(),
      userId: null,
      inviteId: null,
      webauthnUserId: null,
      allowCredentialIds: [],
      ...input,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.webauthn.challengeTtlSeconds * 1000),
    });
  }

  /**
   * Takes a challenge out of the store. The DELETE is the atomic step: when two requests present the same
   * challenge, both may read the row but only one deletes it, and only that one proceeds.
   */
  async consume(challenge: string, ceremony: Ceremony): Promise<Challenge> {
    const row = await this.challenges.findOneBy({ challenge });
    if (!row || row.ceremony !== ceremony) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt is unknown or was already used; start again', 'challenge_unknown');
    }
    const deleted = await this.challenges.delete({ id: row.id });
    if (deleted.affected !== 1) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt is unknown or was already used; start again', 'challenge_reused');
    }
    if (row.expiresAt.getTime() <= Date.now()) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt expired; start again', 'challenge_expired');
    }
    return row;
  }

  async purgeExpired(now = new Date()): Promise<number> {
    const result = await this.challenges.delete({ expiresAt: LessThan(now) });
    return result.affected ?? 0;
  }
}
