import { Column, Entity, PrimaryColumn } from 'typeorm';
import { InstantColumn, JsonTextColumn } from '@app/persistence';

@Entity('service_accounts')
export class ServiceAccount {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128, unique: true })
  name: string;

  @Column({ name: 'client_id', type: 'varchar', length: 64, unique: true })
  clientId: string;

  /** SHA-256 of the secret (see secrets.ts for why a fast hash is right here). */
  @Column({ name: 'secret_hash', type: 'varchar', length: 128 })
  secretHash: string;

  @JsonTextColumn()
  groups: string[];

  /** OAuth scopes (see scopes.ts); what the account may do on this service's own API. */
  @JsonTextColumn()
  scopes: string[];

  @Column({ name: 'created_by', type: 'varchar', length: 128 })
  createdBy: string;

  @InstantColumn({ name: 'created_at' })
  createdAt: Date;

  @InstantColumn({ name: 'secret_rotated_at' })
  secretRotatedAt: Date;

  @InstantColumn({ name: 'disabled_at', nullable: true })
  disabledAt: Date | null;
}
