import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn, JsonTextColumn } from '@app/persistence';

@Entity('users')
export class User {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  /** Normalised (trimmed, lower-case). Never used as a token subject: usernames can be reused, ids cannot. */
  @Column({ type: 'varchar', length: 128, unique: true })
  username: string;

  @Column({ name: 'display_name', type: 'varchar', length: 256 })
  displayName: string;

  @JsonTextColumn()
  groups: string[];

  /** The WebAuthn user handle (random, base64url): reveals nothing about the person. */
  @Column({ name: 'webauthn_user_id', type: 'varchar', length: 128, unique: true })
  webauthnUserId: string;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'updated_at' })
  updatedAt: Date;

  @InstantColumn({ name: 'disabled_at', nullable: true })
  disabledAt: Date | null;

  @InstantColumn({ name: 'last_login_at', nullable: true })
  lastLoginAt: Date | null;

  /** The OpenID provider this person signs in through (its issuer identifier); null for a local (invited) person. */
  @Column({ name: 'idp_issuer', type: 'varchar', length: 512, nullable: true })
  idpIssuer: string | null;

  /** The provider's `sub` for this person: with idpIssuer, the only link to the provider's account. */
  @Column({ name: 'idp_subject', type: 'varchar', length: 255, nullable: true })
  idpSubject: string | null;

  @InstantColumn({ name: 'last_idp_login_at', nullable: true })
  lastIdpLoginAt: Date | null;
}
