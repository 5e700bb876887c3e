import { Column, Entity } from 'typeorm';
import { IdColumn, IdRefColumn, InstantColumn, VarcharColumn } from '@app/persistence';

/** Who asks: a person's command line through the public client `airflow-cli`, or a confidential client (an agent). */
export type DeviceClientKind = 'command_line' | 'agent';

/**
 * One device authorization request (RFC 8628): a client asked to sign in, a person approves or denies it on
 * Airflow's `/auth/device` page with its user code, and the client polls with its device code until then. Only the
 * SHA-256 of the device code is stored; the user code is short and stored as typed (normalised: 8 capitals, no dash),
 * which is why looking it up is limited. Approving never signs anything in by itself: the command line is signed in
 * (a `cli_sign_ins` row) when the client exchanges the device code, once.
 */
@Entity('device_authorizations')
export class DeviceAuthorization {
  @IdColumn()
  id: string;

  @VarcharColumn(64)
  deviceCodeHash: string;

  @VarcharColumn(8)
  userCode: string;

  @VarcharColumn(128)
  clientId: string;

  /** What the approval page calls the client (a service account's name; "Airflow command line" for airflow-cli). */
  @VarcharColumn(128)
  clientName: string;

  @VarcharColumn(16)
  clientKind: DeviceClientKind;

  /** The scope asked for (space-separated), none for a person's command line. */
  @VarcharColumn(1024, { nullable: true })
  scope: string | null;

  @VarcharColumn(64, { nullable: true })
  requestedFrom: string | null;

  @VarcharColumn(255, { nullable: true })
  userAgent: string | null;

  @InstantColumn()
  requestedAt: Date;

  @InstantColumn()
  expiresAt: Date;

  /** The least time between two polls; grows by 5 s at each `slow_down` (RFC 8628 §3.5). */
  @Column({ type: 'integer' })
  intervalSeconds: number;

  @InstantColumn({ nullable: true })
  lastPolledAt: Date | null;

  /** The person who approved or denied it. */
  @IdRefColumn({ nullable: true })
  userId: string | null;

  /** The passkey of the approving person's fresh, user-verified confirmation. */
  @IdRefColumn({ nullable: true })
  passkeyId: string | null;

  @InstantColumn({ nullable: true })
  approvedAt: Date | null;

  /** An agent's request: the days the person approved it for (its delegation is created at the agent's poll). */
  @Column({ type: 'integer', nullable: true })
  days: number | null;

  @InstantColumn({ nullable: true })
  deniedAt: Date | null;

  /** The approving (or denying) person's address. */
  @VarcharColumn(64, { nullable: true })
  decidedFrom: string | null;

  /** When the client got its token (a device code is exchanged once). */
  @InstantColumn({ nullable: true })
  exchangedAt: Date | null;

  /** The command line the exchange signed in. */
  @IdRefColumn({ nullable: true })
  cliSignInId: string | null;
}
