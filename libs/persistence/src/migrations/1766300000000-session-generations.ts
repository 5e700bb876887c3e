import { MigrationInterface, QueryRunner } from 'typeorm';

/*
 * Ending sessions for good. A person's and a service account's `session_generation` goes up whenever their
 * sessions or tokens must end and never come back (account disabled, passkey unflagged, signed out at the provider,
 * secret rotated); every token carries the generation it was issued under (`session_gen`), and a token whose
 * generation is not the current one is refused, whatever the account's state is later (enabled again, passkey
 * unflagged, groups re-added). Existing rows start at 0, the generation of every token issued before this claim.
 * `sessions_ended_reason` and `sessions_ended_at` say why and when, for the refusal's words.
 *
 * Plain ALTER TABLE on both databases (SQLite has had ADD and DROP COLUMN since 3.35): TypeORM's addColumn and
 * dropColumn rebuild a SQLite table, and rebuilding `users` would cascade-delete every passkey through their
 * foreign key.
 */
const TABLES = ['users', 'service_accounts'];
const COLUMNS: Array<[name: string, definition: string]> = [
  ['session_generation', 'integer NOT NULL DEFAULT 0'],
  ['sessions_ended_reason', 'varchar(32)'],
  ['sessions_ended_at', 'bigint'],
];

export class SessionGenerations1766300000000 implements MigrationInterface {
  name = 'SessionGenerations1766300000000';

  async up(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      for (const [name, definition] of COLUMNS) await q.query(`ALTER TABLE ${table} ADD COLUMN ${name} ${definition}`);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of TABLES) {
      for (const [name] of [...COLUMNS].reverse()) await q.query(`ALTER TABLE ${table} DROP COLUMN ${name}`);
    }
  }
}
