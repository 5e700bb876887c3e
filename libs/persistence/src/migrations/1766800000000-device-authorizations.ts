import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/*
 * Device authorization (RFC 8628): a command line (or an agent) asks, a person approves with a passkey.
 *
 * device_authorizations: one row per request. device_code_hash is the SHA-256 of the device code (unique; the code
 * itself is only in the client's answer); user_code is the short code a person types (unique while the row lives).
 * interval_seconds and last_polled_at pace the client's polling (slow_down). user_id, passkey_id, approved_at or
 * denied_at and decided_from record the person's decision; exchanged_at and cli_sign_in_id the one exchange, which
 * signs the command line in (a cli_sign_ins row). Bounded: rows are deleted an hour after they expire, whenever a
 * new request is made, and go with the approving person (CASCADE).
 */
export class DeviceAuthorizations1766800000000 implements MigrationInterface {
  name = 'DeviceAuthorizations1766800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'device_authorizations',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'device_code_hash', type: 'varchar', length: '64', isUnique: true },
          { name: 'user_code', type: 'varchar', length: '8', isUnique: true },
          { name: 'client_id', type: 'varchar', length: '128' },
          { name: 'client_name', type: 'varchar', length: '128' },
          { name: 'client_kind', type: 'varchar', length: '16' },
          { name: 'scope', type: 'varchar', length: '1024', isNullable: true },
          { name: 'requested_from', type: 'varchar', length: '64', isNullable: true },
          { name: 'user_agent', type: 'varchar', length: '255', isNullable: true },
          { name: 'requested_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'interval_seconds', type: 'integer' },
          { name: 'last_polled_at', type: 'bigint', isNullable: true },
          { name: 'user_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'passkey_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'approved_at', type: 'bigint', isNullable: true },
          { name: 'denied_at', type: 'bigint', isNullable: true },
          { name: 'decided_from', type: 'varchar', length: '64', isNullable: true },
          { name: 'exchanged_at', type: 'bigint', isNullable: true },
          { name: 'cli_sign_in_id', type: 'varchar', length: '36', isNullable: true },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ name: 'IDX_device_authorizations_expires_at', columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('device_authorizations');
  }
}
