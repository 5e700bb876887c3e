import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/*
 * Signing a person's command line in with a one-time code (airflowctl's `auth login`).
 *
 * cli_sign_ins: one row per code a person created after a passkey confirmation; only the code's SHA-256 is stored
 * (unique). A row is a pending code until used_at, then that command line's session until revoked_at. passkey_id is
 * the confirming passkey (revoking it ends the command line, as it ends a browser session). last_used_at is when
 * Airflow last re-checked the command line in use (so accurate to its recheck interval). Bounded: a person's codes
 * that expired unused are deleted when they create the next one, and every row goes with the person (CASCADE).
 */
export class CliSignIns1766500000000 implements MigrationInterface {
  name = 'CliSignIns1766500000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'cli_sign_ins',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'passkey_id', type: 'varchar', length: '36' },
          { name: 'code_hash', type: 'varchar', length: '64', isUnique: true },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'used_at', type: 'bigint', isNullable: true },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
          { name: 'last_used_at', type: 'bigint', isNullable: true },
          { name: 'created_from', type: 'varchar', length: '64', isNullable: true },
          { name: 'used_from', type: 'varchar', length: '64', isNullable: true },
          { name: 'client', type: 'varchar', length: '255', isNullable: true },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ name: 'IDX_cli_sign_ins_user_id', columnNames: ['user_id'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('cli_sign_ins');
  }
}
