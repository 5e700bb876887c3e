import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { UnitOfWork } from '@app/persistence';
import { Ceremony, Challenge } from './challenge.entity';
import { ChallengeRepository } from './challenge.repository';

type NewChallenge = Pick<Challenge, 'challenge' | 'ceremony'> & Partial<Pick<Challenge, 'userId' | 'inviteId' | 'webauthnUserId' | 'allowCredentialIds'>>;

@Injectable()
export class ChallengeStoreService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly challenges: ChallengeRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async save(input: NewChallenge): Promise<void> {
    const now = new Date();
    const challenge = Object.assign(new Challenge(), {
      id: randomUUID(),
      challenge: input.challenge,
      ceremony: input.ceremony,
      userId: input.userId ?? null,
      inviteId: input.inviteId ?? null,
      webauthnUserId: input.webauthnUserId ?? null,
      allowCredentialIds: input.allowCredentialIds ?? [],
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.webauthn.challengeTtlSeconds * 1000),
    });
    await this.uow.run((tx) => this.challenges.insert(tx, challenge));
  }

  /**
   * Takes a challenge out of the store. The DELETE ... RETURNING is the atomic step: when several requests present
   * the same challenge, only one of them gets the row back, and only that one proceeds. A challenge past its
   * expiry is consumed all the same (it can never be used again) and refused.
   */
  async consume(challenge: string, ceremony: Ceremony): Promise<Challenge> {
    const taken = await this.uow.run((tx) => this.challenges.take(tx, challenge, ceremony));
    if (!taken) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt is unknown or was already used; start again', 'challenge_unknown');
    }
    if (taken.expiresAt.getTime() <= Date.now()) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt expired; start again', 'challenge_expired');
    }
    return taken;
  }

  purgeExpired(now = new Date()): Promise<number> {
    return this.uow.run((tx) => this.challenges.purgeExpired(tx, now));
  }
}
