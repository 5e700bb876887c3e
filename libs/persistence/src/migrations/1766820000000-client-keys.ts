import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/*
 * Clients that authenticate with a private-key JWT (RFC 7523 §2.2) instead of, or besides, their secret.
 *
 * service_accounts.jwks: the client's public keys (a JWKS of 1-3 keys, as JSON text), or null: secret only.
 * used_client_assertions: the client assertions already accepted, by the SHA-256 of (client id, jti) (unique, so of
 * two concurrent presentations exactly one inserts), kept until the assertion's own exp; purged after.
 */
export class ClientKeys1766820000000 implements MigrationInterface {
  name = 'ClientKeys1766820000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('service_accounts', new TableColumn({ name: 'jwks', type: 'text', isNullable: true }));
    await q.createTable(
      new Table({
        name: 'used_client_assertions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'jti_hash', type: 'varchar', length: '64', isUnique: true },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [{ name: 'IDX_used_client_assertions_expires_at', columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('used_client_assertions');
    await q.dropColumn('service_accounts', 'jwks');
  }
}
