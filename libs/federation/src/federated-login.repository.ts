import { Injectable } from '@nestjs/common';
import { SingleUseRows, Tx } from '@app/persistence';
import { FederatedLogin } from './federated-login.entity';

const FIND = 'SELECT * FROM federated_logins WHERE secret_hash = ?';

/** Provider sign-ins waiting for their passkey step: found (to show the step) and taken once, by the secret's hash. */
@Injectable()
export class FederatedLoginRepository extends SingleUseRows<FederatedLogin> {
  constructor() {
    super(FederatedLogin, 'federated_logins', 'DELETE FROM federated_logins WHERE secret_hash = ? RETURNING *');
  }

  async find(tx: Tx, secretHash: string): Promise<FederatedLogin | null> {
    const { rows } = await tx.query(FIND, [secretHash]);
    return rows[0] ? tx.rows(FederatedLogin).fromRow(rows[0]) : null;
  }

  take(tx: Tx, secretHash: string): Promise<FederatedLogin | null> {
    return this.takeOnce(tx, [secretHash]);
  }
}
