import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/*
 * Ending sessions for good. A person's and a service account's `session_generation` goes up whenever their
 * sessions or tokens must end and never come back (account disabled, passkey unflagged, signed out at the provider,
 * secret rotated); every token carries the generation it was issued under (`session_gen`), and a token whose
 * generation is not the current one is refused, whatever the account's state is later (enabled again, passkey
 * unflagged, groups re-added). Existing rows start at 0, the generation of every token issued before this claim.
 * `sessions_ended_reason` and `sessions_ended_at` say why and when, for the refusal's words.
 *
 * Added through TypeORM (its table cache must know these columns, or a later migration's addColumn on SQLite rebuilds
 * `users` without them); dropped with plain ALTER TABLE (SQLite has DROP COLUMN since 3.35), because TypeORM's
 * dropColumn rebuilds a SQLite table, and rebuilding `users` cascade-deletes every passkey through their foreign key.
 */
const TABLES = ['users', 'service_accounts'];
const COLUMNS = ['session_generation', 'sessions_ended_reason', 'sessions_ended_at'];

export class SessionGenerations1766300000000 implements MigrationInterface {
  name = 'SessionGenerations1766300000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      await q.addColumns(table, [
        new TableColumn({ name: 'session_generation', type: 'integer', isNullable: false, default: 0 }),
        new TableColumn({ name: 'sessions_ended_reason', type: 'varchar', length: '32', isNullable: true }),
        new TableColumn({ name: 'sessions_ended_at', type: 'bigint', isNullable: true }),
      ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      for (const column of [...COLUMNS].reverse()) await q.query(`ALTER TABLE ${table} DROP COLUMN ${column}`);
    }
  }
}
