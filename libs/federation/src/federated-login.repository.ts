import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { FederatedLogin } from './federated-login.entity';

const COLUMNS: (keyof FederatedLogin & string)[] = ['id', 'secretHash', 'userId', 'idpIssuer', 'action', 'createdAt', 'expiresAt'];
const INSERT = 'INSERT INTO federated_logins (id, secret_hash, user_id, idp_issuer, action, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
const FIND = 'SELECT * FROM federated_logins WHERE secret_hash = ?';
/** Read and delete in one statement: of several requests finishing one sign-in, exactly one gets the row. */
const TAKE = 'DELETE FROM federated_logins WHERE secret_hash = ? RETURNING *';
const PURGE = 'DELETE FROM federated_logins WHERE expires_at < ?';

@Injectable()
export class FederatedLoginRepository {
  async insert(tx: Tx, login: FederatedLogin): Promise<void> {
    await tx.query(INSERT, tx.rows(FederatedLogin).params(login, COLUMNS));
  }

  async find(tx: Tx, secretHash: string): Promise<FederatedLogin | null> {
    const { rows } = await tx.query(FIND, [secretHash]);
    return rows[0] ? tx.rows(FederatedLogin).fromRow(rows[0]) : null;
  }

  async take(tx: Tx, secretHash: string): Promise<FederatedLogin | null> {
    const { rows } = await tx.query(TAKE, [secretHash]);
    return rows[0] ? tx.rows(FederatedLogin).fromRow(rows[0]) : null;
  }

  async purgeExpired(tx: Tx, now: Date): Promise<number> {
    return (await tx.query(PURGE, [tx.rows(FederatedLogin).param('expiresAt', now)])).affected;
  }
}
