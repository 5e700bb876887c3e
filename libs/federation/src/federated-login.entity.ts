import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '@app/persistence';

/** `confirm`: the person has passkeys and must use one. `enroll`: first sign-in, they set one up now. */
export type PasskeyStep = 'confirm' | 'enroll';

/**
 * A provider sign-in that passed every check and now waits for its passkey step. No token exists until that step
 * succeeds. Found by the SHA-256 of a secret only the browser has (httponly cookie); taken once; expiring.
 */
@Entity('federated_logins')
export class FederatedLogin {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'secret_hash', type: 'varchar', length: 64, unique: true })
  secretHash: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @Column({ name: 'idp_issuer', type: 'varchar', length: 512 })
  idpIssuer: string;

  @Column({ type: 'varchar', length: 16 })
  action: PasskeyStep;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'expires_at' })
  expiresAt: Date;
}
