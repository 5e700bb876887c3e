import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn, JsonTextColumn } from '@app/persistence';

export type Ceremony = 'registration' | 'authentication';

/** A pending ceremony. Stored server side so any instance can finish what another began; deleted on first use. */
@Entity('challenges')
export class Challenge {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128, unique: true })
  challenge: string;

  @Column({ type: 'varchar', length: 16 })
  ceremony: Ceremony;

  /** Registration by a signed-in user, or authentication for a named user. */
  @Column({ name: 'user_id', type: 'varchar', length: 36, nullable: true })
  userId: string | null;

  @Column({ name: 'invite_id', type: 'varchar', length: 36, nullable: true })
  inviteId: string | null;

  /** Registration: the user handle put in the creation options. */
  @Column({ name: 'webauthn_user_id', type: 'varchar', length: 128, nullable: true })
  webauthnUserId: string | null;

  /** Authentication: the credential ids offered in allowCredentials (empty for a discoverable ceremony). */
  @JsonTextColumn({ name: 'allow_credential_ids' })
  allowCredentialIds: string[];

  /** Authentication: the assertion must carry user verification (a step-up), whatever WEBAUTHN_USER_VERIFICATION says. */
  @Column({ name: 'require_user_verification', type: 'boolean', default: false })
  requireUserVerification: boolean;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'expires_at' })
  expiresAt: Date;
}
