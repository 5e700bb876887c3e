import { Entity } from 'typeorm';
import { IdColumn, IdRefColumn, VarcharColumn, InstantColumn } from '@app/persistence';

/** `confirm`: the person has passkeys and must use one. `enroll`: first sign-in, they set one up now. */
export type PasskeyStep = 'confirm' | 'enroll';

/**
 * A provider sign-in that passed every check and now waits for its passkey step. No token exists until that step
 * succeeds. Found by the SHA-256 of a secret only the browser has (httponly cookie); taken once; expiring.
 */
@Entity('federated_logins')
export class FederatedLogin {
  @IdColumn()
  id: string;

  @VarcharColumn(64, { unique: true })
  secretHash: string;

  @IdRefColumn()
  userId: string;

  @VarcharColumn(512)
  idpIssuer: string;

  @VarcharColumn(16)
  action: PasskeyStep;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  expiresAt: Date;
}
