import { Column, Entity } from 'typeorm';
import { IdColumn, IdRefColumn, VarcharColumn, InstantColumn, JsonTextColumn } from '@app/persistence';

export type Ceremony = 'registration' | 'authentication';

/** A pending ceremony. Stored server side so any instance can finish what another began; deleted on first use. */
@Entity('challenges')
export class Challenge {
  @IdColumn()
  id: string;

  @VarcharColumn(128, { unique: true })
  challenge: string;

  @VarcharColumn(16)
  ceremony: Ceremony;

  /** Registration by a signed-in user, or authentication for a named user. */
  @IdRefColumn({ nullable: true })
  userId: string | null;

  @IdRefColumn({ nullable: true })
  inviteId: string | null;

  /** Registration: the user handle put in the creation options. */
  @VarcharColumn(128, { nullable: true })
  webauthnUserId: string | null;

  /** Authentication: the credential ids offered in allowCredentials (empty for a discoverable ceremony). */
  @JsonTextColumn()
  allowCredentialIds: string[];

  /** Authentication: the assertion must carry user verification (a step-up), whatever WEBAUTHN_USER_VERIFICATION says. */
  @Column({ type: 'boolean', default: false })
  requireUserVerification: boolean;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  expiresAt: Date;
}
