import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * How many days the person approved an agent's device request for (chosen on the approval page, at most
 * DELEGATION_MAX_DAYS): the delegation is created when the agent polls, so the choice is kept with the approval.
 * Null for a command line's request and for approvals from before this column.
 */
export class DeviceAuthorizationDays1766825000000 implements MigrationInterface {
  name = 'DeviceAuthorizationDays1766825000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('device_authorizations', new TableColumn({ name: 'days', type: 'integer', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('device_authorizations', 'days');
  }
}
