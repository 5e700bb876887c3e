import { MigrationInterface, QueryRunner, Table, TableColumn } from 'typeorm';

/*
 * Agents act for a person within what that person approved (issue 20).
 *
 * service_accounts.agent: the account is an agent (no access of its own beyond its groups).
 * delegations: one row per approval (or per sub-agent exchange, with parent_id): the person, the agent, the canonical
 * `dag:` scope, until when, who revoked it, and the passkey whose user-verified assertion approved it (revoking that
 * passkey ends the delegation). Rows go with the person (CASCADE); an agent's rows go with the agent.
 * delegation_refresh_tokens: SHA-256 of each refresh token, bound to the client it was issued to; single use
 * (used_at), and a used one presented again revokes its delegation (RFC 6819 §5.2.2.3 refresh token rotation).
 */
export class AgentsAndDelegations1766815000000 implements MigrationInterface {
  name = 'AgentsAndDelegations1766815000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('service_accounts', new TableColumn({ name: 'agent', type: 'boolean', default: false }));
    await q.createTable(
      new Table({
        name: 'delegations',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'user_id', type: 'varchar', length: '36' },
          { name: 'agent_id', type: 'varchar', length: '36' },
          { name: 'agent_client_id', type: 'varchar', length: '64' },
          { name: 'scope', type: 'varchar', length: '2000' },
          { name: 'passkey_id', type: 'varchar', length: '36' },
          { name: 'parent_id', type: 'varchar', length: '36', isNullable: true },
          { name: 'depth', type: 'integer' },
          { name: 'created_at', type: 'bigint' },
          { name: 'expires_at', type: 'bigint' },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
          { name: 'revoked_by', type: 'varchar', length: '128', isNullable: true },
          { name: 'revoked_reason', type: 'varchar', length: '32', isNullable: true },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
          {
            columnNames: ['agent_id'],
            referencedTableName: 'service_accounts',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
          {
            columnNames: ['parent_id'],
            referencedTableName: 'delegations',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [
          { name: 'IDX_delegations_user_id', columnNames: ['user_id'] },
          { name: 'IDX_delegations_agent_id', columnNames: ['agent_id'] },
          { name: 'IDX_delegations_parent_id', columnNames: ['parent_id'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'delegation_refresh_tokens',
        columns: [
          { name: 'token_hash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'delegation_id', type: 'varchar', length: '36' },
          { name: 'client_id', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'bigint' },
          { name: 'used_at', type: 'bigint', isNullable: true },
        ],
        foreignKeys: [
          {
            columnNames: ['delegation_id'],
            referencedTableName: 'delegations',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
        indices: [{ name: 'IDX_delegation_refresh_tokens_delegation_id', columnNames: ['delegation_id'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('delegation_refresh_tokens');
    await q.dropTable('delegations');
    await q.dropColumn('service_accounts', 'agent');
  }
}
