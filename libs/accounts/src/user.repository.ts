import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EntityRows, Tx } from '@app/persistence';
import { User } from './user.entity';

const RECORD_LOGIN = 'UPDATE users SET last_login_at = ? WHERE id = ?';

/** The user aggregate's hand-written SQL (the sign-in path); everything else uses the repository API. */
@Injectable()
export class UserRepository {
  private readonly rows: EntityRows<User>;

  constructor(dataSource: DataSource) {
    this.rows = new EntityRows(dataSource, User);
  }

  async recordLogin(tx: Tx, userId: string, at: Date): Promise<void> {
    await tx.query(RECORD_LOGIN, [this.rows.param('lastLoginAt', at), userId]);
  }
}
