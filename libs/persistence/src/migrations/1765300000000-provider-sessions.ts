import { MigrationInterface, QueryRunner, Table } from 'typeorm';

/*
 * OpenID Connect Back-Channel Logout by provider session.
 *
 * idp_sessions: the `sid` the provider's ID token named at a sign-in, against the person it signed in, so a logout
 * token naming only that sid (Keycloak's usual shape) finds whose sessions end. Unique per (idp_issuer, sid): a sid
 * is the provider's, and a second sign-in in one provider session only refreshes the row. Bounded: each row expires
 * when no session started from that sign-in can still be alive (the sign-in's passkey step plus a user token's
 * lifetime), is purged then, and goes with the person (ON DELETE CASCADE).
 *
 * used_logout_tokens: the logout tokens already acted on, by the SHA-256 of (issuer, jti) (unique), so each is acted
 * on once.
 * Kept only as long as a logout token is accepted at all (its `iat` is recent); older ones are refused anyway.
 */
export class ProviderSessions1765300000000 implements MigrationInterface {
  name = 'ProviderSessions1765300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'idp_sessions',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'idp_issuer', type: 'varchar', length: '512' },
          { name: 'sid', type: 'varchar', length: '255' },
          { name: 'user_id', type: 'varchar', length: '36' },
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
        indices: [
          { name: 'IDX_idp_sessions_sid', columnNames: ['idp_issuer', 'sid'], isUnique: true },
          { name: 'IDX_idp_sessions_user_id', columnNames: ['user_id'] },
          { name: 'IDX_idp_sessions_expires_at', columnNames: ['expires_at'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'used_logout_tokens',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'jti_hash', type: 'varchar', length: '64', isUnique: true },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [{ name: 'IDX_used_logout_tokens_expires_at', columnNames: ['expires_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('used_logout_tokens');
    await q.dropTable('idp_sessions');
  }
}
