import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/*
 * Written with TypeORM's schema builder rather than raw SQL so that the one migration set runs on SQLite and
 * PostgreSQL alike. Instants are bigint epoch milliseconds, binary values base64url text (see columns.ts).
 */
const id = { name: 'id', type: 'varchar', length: '36', isPrimary: true } as const;
const instant = (name: string, isNullable = false) => ({ name, type: 'bigint', isNullable });
const text = (name: string, isNullable = false) => ({ name, type: 'text', isNullable });
const varchar = (name: string, length: number, isNullable = false) => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable,
});

export class InitialSchema1764300000000 implements MigrationInterface {
  name = 'InitialSchema1764300000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'users',
        columns: [
          id,
          { ...varchar('username', 128), isUnique: true },
          varchar('display_name', 256),
          text('groups'),
          { ...varchar('webauthn_user_id', 128), isUnique: true },
          instant('created_at'),
          instant('updated_at'),
          instant('disabled_at', true),
          instant('last_login_at', true),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'passkeys',
        columns: [
          id,
          varchar('user_id', 36),
          { ...varchar('credential_id', 1400), isUnique: true },
          text('public_key'),
          { name: 'algorithm', type: 'integer' },
          { name: 'counter', type: 'bigint' },
          text('transports'),
          varchar('aaguid', 36),
          varchar('device_type', 16),
          { name: 'backup_eligible', type: 'boolean' },
          { name: 'backed_up', type: 'boolean' },
          varchar('attestation_format', 32),
          varchar('label', 128),
          instant('created_at'),
          instant('last_used_at', true),
          instant('revoked_at', true),
          instant('flagged_at', true),
          varchar('flag_reason', 64, true),
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ columnNames: ['user_id'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'invites',
        columns: [
          id,
          { ...varchar('token_hash', 64), isUnique: true },
          varchar('username', 128),
          varchar('display_name', 256, true),
          text('groups'),
          varchar('created_by', 128),
          instant('created_at'),
          instant('expires_at'),
          instant('used_at', true),
          instant('revoked_at', true),
          varchar('user_id', 36, true),
        ],
        indices: [{ columnNames: ['username'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'challenges',
        columns: [
          id,
          { ...varchar('challenge', 128), isUnique: true },
          varchar('ceremony', 16),
          varchar('user_id', 36, true),
          varchar('invite_id', 36, true),
          varchar('webauthn_user_id', 128, true),
          text('allow_credential_ids'),
          instant('created_at'),
          instant('expires_at'),
        ],
        indices: [{ columnNames: ['expires_at'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'service_accounts',
        columns: [
          id,
          { ...varchar('name', 128), isUnique: true },
          { ...varchar('client_id', 64), isUnique: true },
          varchar('secret_hash', 128),
          text('groups'),
          varchar('created_by', 128),
          instant('created_at'),
          instant('secret_rotated_at'),
          instant('disabled_at', true),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'signing_keys',
        columns: [
          id,
          { ...varchar('kid', 64), isUnique: true },
          varchar('alg', 16),
          varchar('state', 16),
          text('public_jwk'),
          text('encrypted_private_key'),
          instant('created_at'),
          instant('activated_at', true),
          instant('retired_at', true),
          instant('publish_until', true),
        ],
        indices: [{ columnNames: ['state'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          id,
          instant('occurred_at'),
          varchar('type', 64),
          varchar('outcome', 16),
          varchar('reason', 64, true),
          varchar('actor_type', 16),
          varchar('actor_id', 128, true),
          varchar('subject_type', 32, true),
          varchar('subject_id', 128, true),
          varchar('client_ip', 64, true),
          varchar('user_agent', 512, true),
          text('details'),
        ],
      }),
    );
    await q.createIndices('audit_events', [
      new TableIndex({ columnNames: ['occurred_at'] }),
      new TableIndex({ columnNames: ['type', 'occurred_at'] }),
      new TableIndex({ columnNames: ['subject_id', 'occurred_at'] }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of [
      'audit_events',
      'signing_keys',
      'service_accounts',
      'challenges',
      'invites',
      'passkeys',
      'users',
    ]) {
      await q.dropTable(table);
    }
  }
}
