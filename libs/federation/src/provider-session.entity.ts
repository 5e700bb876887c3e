import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn } from '@app/persistence';

/**
 * A provider session (the ID token's `sid`) a person signed in through, so a back-channel logout token naming only
 * that sid finds whose sessions end. One row per (issuer, sid); expiring once no session started from that sign-in
 * can still be alive.
 */
@Entity('idp_sessions')
export class ProviderSession {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ name: 'idp_issuer', type: 'varchar', length: 512 })
  idpIssuer: string;

  @Column({ type: 'varchar', length: 255 })
  sid: string;

  @Column({ name: 'user_id', type: 'varchar', length: 36 })
  userId: string;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'expires_at' })
  expiresAt: Date;
}
