import { Column, Entity } from 'typeorm';
import { IdColumn, VarcharColumn, InstantColumn, JsonTextColumn } from '@app/persistence';
import type { ClientJwks } from './client-keys';

@Entity('service_accounts')
export class ServiceAccount {
  @IdColumn()
  id: string;

  @VarcharColumn(128, { unique: true })
  name: string;

  @VarcharColumn(64, { unique: true })
  clientId: string;

  /** SHA-256 of the secret (see secrets.ts for why a fast hash is right here). */
  @VarcharColumn(128)
  secretHash: string;

  /**
   * Public keys for private_key_jwt client authentication (RFC 7523 §2.2), as parseClientJwks normalised them; null
   * when the account authenticates only with its secret.
   */
  @JsonTextColumn({ nullable: true })
  jwks: ClientJwks | null;

  @JsonTextColumn()
  groups: string[];

  /** OAuth scopes (see scopes.ts); what the account may do on this service's own API. */
  @JsonTextColumn()
  scopes: string[];

  /**
   * An agent (an AI assistant, an automation) acts for people under delegations they approved (libs/delegations):
   * on its own it has only its groups, usually none, so by itself it reaches nothing in Airflow.
   */
  @Column({ type: 'boolean', default: false })
  agent: boolean;

  @VarcharColumn(128)
  createdBy: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  secretRotatedAt: Date;

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
}
