import { Entity } from 'typeorm';
import { IdColumn, IdRefColumn, InstantColumn, VarcharColumn } from '@app/persistence';

/**
 * A provider session (the ID token's `sid`) a person signed in through, so a back-channel logout token naming only
 * that sid finds whose sessions end. One row per (issuer, sid); expiring once no Airflow session started from that
 * sign-in can still be alive.
 */
@Entity('idp_sessions')
export class ProviderSession {
  @IdColumn()
  id: string;

  @VarcharColumn(512)
  idpIssuer: string;

  @VarcharColumn(255)
  sid: string;

  @IdRefColumn()
  userId: string;

  @InstantColumn()
  createdAt: Date;

  @InstantColumn()
  expiresAt: Date;
}
