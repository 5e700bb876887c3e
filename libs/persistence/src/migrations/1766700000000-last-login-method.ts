import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * How a person last signed in (passkey, identity provider, provider + passkey, ...), next to when: an access review
 * and `airflow users list` show both. Null for people who never signed in, and for sign-ins before this column
 * existed (the audit trail still has those).
 */
export class LastLoginMethod1766700000000 implements MigrationInterface {
  name = 'LastLoginMethod1766700000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'users',
      new TableColumn({ name: 'last_login_method', type: 'varchar', length: '32', isNullable: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('users', 'last_login_method');
  }
}
