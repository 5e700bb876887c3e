import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx } from '@app/persistence';
import { Ceremony, Challenge } from './challenge.entity';
import { ChallengeRepository } from './challenge.repository';

type NewChallenge = Pick<Challenge, 'challenge' | 'ceremony'> &
  Partial<Pick<Challenge, 'userId' | 'inviteId' | 'webauthnUserId' | 'allowCredentialIds' | 'requireUserVerification'>>;

@Injectable()
export class ChallengeStoreService {
  constructor(
    private readonly challenges: ChallengeRepository,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Stores a pending ceremony, in the caller's unit of work. */
  async store(tx: Tx, input: NewChallenge): Promise<void> {
    const now = this.clock.now();
    const challenge = Object.assign(new Challenge(), {
      id: randomUUID(),
      challenge: input.challenge,
      ceremony: input.ceremony,
      userId: input.userId ?? null,
      inviteId: input.inviteId ?? null,
      webauthnUserId: input.webauthnUserId ?? null,
      allowCredentialIds: input.allowCredentialIds ?? [],
      requireUserVerification: input.requireUserVerification ?? false,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.config.webauthn.challengeTtlSeconds * 1000),
    });
    await this.challenges.insert(tx, challenge);
  }

  /**
   * Takes a challenge out of the store, in the caller's unit of work. The DELETE ... RETURNING is the atomic step:
   * when several requests present the same challenge, only one of them gets the row back. Pass what it returns to
   * `usable` once the unit has committed: a challenge refused there stays consumed (it can never be used again).
   */
  take(tx: Tx, challenge: string, ceremony: Ceremony): Promise<Challenge | null> {
    return this.challenges.take(tx, challenge, ceremony);
  }

  /** The taken challenge if this request may proceed with it; refuses an unknown, already used or expired one. */
  usable(taken: Challenge | null): Challenge {
    if (!taken) {
      throw new AppError(
        ErrorCode.InvalidChallenge,
        'this sign-in attempt is unknown or was already used; start again',
        'challenge_unknown',
      );
    }
    if (taken.expiresAt.getTime() <= this.clock.now().getTime()) {
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt expired; start again', 'challenge_expired');
    }
    return taken;
  }

  purgeExpired(tx: Tx, now = this.clock.now()): Promise<number> {
    return this.challenges.purgeExpired(tx, now);
  }
}
