import { Injectable } from '@nestjs/common';
import { SingleUseRows, Tx } from '@app/persistence';
import { Ceremony, Challenge } from './challenge.entity';

/** The pending-ceremony aggregate's SQL: a challenge is taken once, by its value and ceremony. */
@Injectable()
export class ChallengeRepository extends SingleUseRows<Challenge> {
  constructor() {
    super(Challenge, 'challenges', 'DELETE FROM challenges WHERE challenge = ? AND ceremony = ? RETURNING *');
  }

  take(tx: Tx, challenge: string, ceremony: Ceremony): Promise<Challenge | null> {
    return this.takeOnce(tx, [challenge, ceremony]);
  }
}
