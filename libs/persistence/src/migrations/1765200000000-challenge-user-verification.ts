import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * A challenge remembers whether its assertion must carry user verification (UV): step-up confirmations ask for it
 * whatever WEBAUTHN_USER_VERIFICATION says, and the verify step decides from this stored value, never from anything
 * the verify request claims. Pending challenges (minutes old at most) keep the configured behaviour.
 */
export class ChallengeUserVerification1765200000000 implements MigrationInterface {
  name = 'ChallengeUserVerification1765200000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'challenges',
      new TableColumn({ name: 'require_user_verification', type: 'boolean', isNullable: false, default: false }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('challenges', 'require_user_verification');
  }
}
