import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * The person's and the agent's session generation when a delegation was approved: disabling either, or flagging a
 * passkey of the person, raises the generation, so the delegation ends for good (enabling again or unflagging must
 * not bring it back), as sessions and tokens do.
 */
export class DelegationGenerations1766816000000 implements MigrationInterface {
  name = 'DelegationGenerations1766816000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('delegations', [
      new TableColumn({ name: 'person_generation', type: 'integer', default: 0 }),
      new TableColumn({ name: 'agent_generation', type: 'integer', default: 0 }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('delegations', 'agent_generation');
    await q.dropColumn('delegations', 'person_generation');
  }
}
