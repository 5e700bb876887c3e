import { Column, Entity } from 'typeorm';
import { IdColumn, VarcharColumn, InstantColumn, JsonTextColumn } from '@app/persistence';

/**
 * How a person signed in: a passkey alone, their identity provider alone, or the provider and then a passkey. The
 * command-line and agent sign-ins record 'cli' and 'agent'.
 */
export const SIGN_IN_METHODS = ['passkey', 'provider', 'provider+passkey', 'cli', 'agent'] as const;
export type SignInMethod = (typeof SIGN_IN_METHODS)[number];

@Entity('users')
export class User {
  @IdColumn()
  id: string;

  /** Normalised (trimmed, lower-case). Never used as a token subject: usernames can be reused, ids cannot. */
  @VarcharColumn(128, { unique: true })
  username: string;

  @VarcharColumn(256)
  displayName: string;

  @JsonTextColumn()
  groups: string[];

  /** The WebAuthn user handle (random, base64url): reveals nothing about the person. */
  @VarcharColumn(128, { unique: true })
  webauthnUserId: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  updatedAt: Date;

  @InstantColumn({ nullable: true })
  disabledAt: Date | null;

  /** Raised whenever this account's sessions or tokens end for good (see session-generation.ts). */
  @Column({ type: 'integer', default: 0 })
  sessionGeneration: number;

  /** Why the generation was last raised (`SessionsEndedReason`), for the words of a refusal. */
  @VarcharColumn(32, { nullable: true })
  sessionsEndedReason: string | null;

  @InstantColumn({ nullable: true })
  sessionsEndedAt: Date | null;

  @InstantColumn({ nullable: true })
  lastLoginAt: Date | null;

  /** How the last sign-in was made (see SignInMethod); null when never, or before this was recorded. */
  @VarcharColumn(32, { nullable: true })
  lastLoginMethod: SignInMethod | null;

  /** The OpenID provider this person signs in through (its issuer identifier); null for a local (invited) person. */
  @VarcharColumn(512, { nullable: true })
  idpIssuer: string | null;

  /** The provider's `sub` for this person: with idpIssuer, the only link to the provider's account. */
  @VarcharColumn(255, { nullable: true })
  idpSubject: string | null;

  @InstantColumn({ nullable: true })
  lastIdpLoginAt: Date | null;
}
