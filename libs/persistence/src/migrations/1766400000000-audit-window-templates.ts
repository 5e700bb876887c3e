import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * Aggregation windows for more than anonymous failures: refused calls of an authenticated credential (per credential,
 * address, route and minute) and a service account's successful grants (per client and minute). Their summary must
 * name the actor, outcome and subject, so a window keeps the summary's fields as JSON (`summary_of`). A window
 * without one (an anonymous failure's, as before) is summarised from its own columns.
 */
export class AuditWindowTemplates1766400000000 implements MigrationInterface {
  name = 'AuditWindowTemplates1766400000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('audit_failure_windows', new TableColumn({ name: 'summary_of', type: 'text', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('audit_failure_windows', 'summary_of');
  }
}
