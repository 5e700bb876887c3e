import { Entity } from 'typeorm';
import { IdColumn, IdRefColumn, InstantColumn, VarcharColumn } from '@app/persistence';

/**
 * One command line signed in by a person, from the one-time code they created on their Passkeys page to the end of
 * that command line's session. A row is a pending code until `usedAt`, then a signed-in command line until revoked.
 * Only the SHA-256 of the code is stored; the code itself is shown once.
 */
@Entity('cli_sign_ins')
export class CliSignIn {
  @IdColumn()
  id: string;

  @IdRefColumn()
  userId: string;

  /** The passkey whose user-verified confirmation created the code: revoking it ends the command line too. */
  @IdRefColumn()
  passkeyId: string;

  @VarcharColumn(64)
  codeHash: string;

  @InstantColumn()
  createdAt: Date;

  /** The code's own expiry (a signed-in command line lives on until revoked or its Airflow token ends). */
  @InstantColumn()
  expiresAt: Date;

  @InstantColumn({ nullable: true })
  usedAt: Date | null;

  @InstantColumn({ nullable: true })
  revokedAt: Date | null;

  /** When Airflow last re-checked this command line while it was in use (so accurate to its recheck interval). */
  @InstantColumn({ nullable: true })
  lastUsedAt: Date | null;

  @VarcharColumn(64, { nullable: true })
  createdFrom: string | null;

  @VarcharColumn(64, { nullable: true })
  usedFrom: string | null;

  /** The command line's User-Agent when it redeemed the code (e.g. airflowctl's httpx), cut to 255 characters. */
  @VarcharColumn(255, { nullable: true })
  client: string | null;
}
