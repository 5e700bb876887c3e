import { MigrationInterface, QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/*
 * Sign-in through an OpenID provider.
 *
 * users: the link to the provider's account, (idp_issuer, idp_subject), unique together: a person is found again by
 * the provider's stable `sub`, never by a name or an e-mail. Both NULL for local (invited) people; NULLs never
 * collide in a unique index, on SQLite and PostgreSQL alike. last_idp_login_at for the admin views.
 *
 * oidc_flows: started sign-ins, stored server side like WebAuthn challenges (any instance can finish what another
 * began), looked up by `state`, deleted on first use, expiring. `binding_hash` is the SHA-256 of the value the
 * browser keeps in an httponly cookie, so a flow started in one browser cannot be finished in another.
 *
 * federated_logins: provider sign-ins waiting for their passkey step (confirm with a passkey, or enroll the first
 * one). Found by the SHA-256 of a secret the browser keeps in an httponly cookie; taken once; expiring.
 */
export class Federation1765000000000 implements MigrationInterface {
  name = 'Federation1765000000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('users', [
      new TableColumn({ name: 'idp_issuer', type: 'varchar', length: '512', isNullable: true }),
      new TableColumn({ name: 'idp_subject', type: 'varchar', length: '255', isNullable: true }),
      new TableColumn({ name: 'last_idp_login_at', type: 'bigint', isNullable: true }),
    ]);
    await q.createIndex(
      'users',
      new TableIndex({ name: 'IDX_users_idp_identity', columnNames: ['idp_issuer', 'idp_subject'], isUnique: true }),
    );
    await q.createTable(
      new Table({
        name: 'oidc_flows',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'state', type: 'varchar', length: '128', isUnique: true },
          { name: 'nonce', type: 'varchar', length: '128' },
          { name: 'code_verifier', type: 'varchar', length: '128' },
          { name: 'binding_hash', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [{ name: 'IDX_oidc_flows_expires_at', columnNames: ['expires_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'federated_logins',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'secret_hash', type: 'varchar', length: '64', isUnique: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'idp_issuer', type: 'varchar', length: '512' },
          { name: 'action', type: 'varchar', length: '16' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ name: 'IDX_federated_logins_expires_at', columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('federated_logins');
    await q.dropTable('oidc_flows');
    await q.dropIndex('users', 'IDX_users_idp_identity');
    await q.dropColumns('users', ['idp_issuer', 'idp_subject', 'last_idp_login_at']);
  }
}
