import { Injectable } from '@nestjs/common';
import { In, LessThan } from 'typeorm';
import { Tx } from '@app/persistence';
import { SigningKey, SigningKeyState } from './signing-key.entity';

/** The signing-key aggregate's queries; the key store holds the rotation rules. */
@Injectable()
export class SigningKeyRepository {
  existsInState(tx: Tx, state: SigningKeyState): Promise<boolean> {
    return tx.manager.existsBy(SigningKey, { state });
  }

  /** The key in `state` (the oldest when, briefly, there are two). */
  findInState(tx: Tx, state: SigningKeyState): Promise<SigningKey | null> {
    return tx.manager.findOneBy(SigningKey, { state });
  }

  /** The key in `state`; throws when there is none (a caller that made sure there is one). */
  requireInState(tx: Tx, state: SigningKeyState): Promise<SigningKey> {
    return tx.manager.findOneByOrFail(SigningKey, { state });
  }

  /** Keys in any of `states`, oldest first (ties by id, so every instance sees one order). */
  findInStates(tx: Tx, states: SigningKeyState[]): Promise<SigningKey[]> {
    return tx.manager.find(SigningKey, { where: { state: In(states) }, order: { createdAt: 'ASC', id: 'ASC' } });
  }

  /** Retired keys whose publication ended before `now`. */
  retiredBefore(tx: Tx, now: Date): Promise<SigningKey[]> {
    return tx.manager.findBy(SigningKey, { state: 'retired', publishUntil: LessThan(now) });
  }

  /** Every key, newest first. */
  listNewest(tx: Tx): Promise<SigningKey[]> {
    return tx.manager.find(SigningKey, { order: { createdAt: 'DESC' } });
  }

  /** Every key, in any state, erased ones included. */
  all(tx: Tx): Promise<SigningKey[]> {
    return tx.manager.find(SigningKey);
  }

  async insert(tx: Tx, key: SigningKey): Promise<void> {
    await tx.manager.insert(SigningKey, key);
  }

  /**
   * Moves the key on from `from` only if it is still in that state: false when another rotation (an instance, the
   * CLI) got there first.
   */
  async moveState(tx: Tx, id: string, from: SigningKeyState, changes: Partial<SigningKey>): Promise<boolean> {
    const { affected } = await tx.manager.update(SigningKey, { id, state: from }, changes);
    return affected === 1;
  }

  async update(tx: Tx, id: string, changes: Partial<SigningKey>): Promise<void> {
    await tx.manager.update(SigningKey, { id }, changes);
  }
}
