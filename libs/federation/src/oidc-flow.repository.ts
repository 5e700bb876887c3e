import { Injectable } from '@nestjs/common';
import { Tx } from '@app/persistence';
import { OidcFlow } from './oidc-flow.entity';

const COLUMNS: (keyof OidcFlow & string)[] = ['id', 'state', 'nonce', 'codeVerifier', 'bindingHash', 'createdAt', 'expiresAt'];
const INSERT = 'INSERT INTO oidc_flows (id, state, nonce, code_verifier, binding_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)';
/** Read and delete in one statement: of several callbacks presenting one state, exactly one gets the row. */
const TAKE = 'DELETE FROM oidc_flows WHERE state = ? RETURNING *';
const PURGE = 'DELETE FROM oidc_flows WHERE expires_at < ?';

@Injectable()
export class OidcFlowRepository {
  async insert(tx: Tx, flow: OidcFlow): Promise<void> {
    await tx.query(INSERT, tx.rows(OidcFlow).params(flow, COLUMNS));
  }

  async take(tx: Tx, state: string): Promise<OidcFlow | null> {
    const { rows } = await tx.query(TAKE, [state]);
    return rows[0] ? tx.rows(OidcFlow).fromRow(rows[0]) : null;
  }

  async purgeExpired(tx: Tx, now: Date): Promise<number> {
    return (await tx.query(PURGE, [tx.rows(OidcFlow).param('expiresAt', now)])).affected;
  }
}
