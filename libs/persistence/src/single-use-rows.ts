import type { ObjectLiteral } from 'typeorm';
import type { Tx } from './unit-of-work';

/**
 * The store of rows that carry their own expiry (`expires_at`) and are purged once it has passed, by the clean-up
 * job: the base of every such repository, so that the purge is written once.
 */
export abstract class ExpiringRows<T extends ObjectLiteral & { expiresAt: Date }> {
  private readonly purge: string;

  protected constructor(
    protected readonly entity: new () => T,
    table: string,
  ) {
    this.purge = `DELETE FROM ${table} WHERE expires_at < ?`;
  }

  async purgeExpired(tx: Tx, now: Date): Promise<number> {
    return (await tx.query(this.purge, [tx.rows(this.entity).param('expiresAt', now as T['expiresAt'])])).affected;
  }
}

/**
 * The store of a row that lives until it is used once or expires: a pending WebAuthn ceremony, an OpenID sign-in in
 * flight, a provider sign-in waiting for its passkey step. A repository of such rows extends this and says only how
 * a row is taken (its `take` statement, a `DELETE … RETURNING *`: reading and deleting in one statement means that of
 * several requests presenting the same key, exactly one gets the row).
 */
export abstract class SingleUseRows<T extends ObjectLiteral & { expiresAt: Date }> extends ExpiringRows<T> {
  protected constructor(
    entity: new () => T,
    table: string,
    private readonly takeSql: string,
  ) {
    super(entity, table);
  }

  async insert(tx: Tx, row: T): Promise<void> {
    await tx.query(...tx.rows(this.entity).insert(row));
  }

  /** Reads and deletes the row `key` (the take statement's parameters) names; null when there is none. */
  protected async takeOnce(tx: Tx, key: readonly unknown[]): Promise<T | null> {
    const { rows } = await tx.query(this.takeSql, key);
    return rows[0] ? tx.rows(this.entity).fromRow(rows[0]) : null;
  }
}

/**
 * The store of tokens already acted on, by the hash of their `jti` (a unique `jti_hash` column): a back-channel
 * logout token, a client assertion. Of several presentations of one token (a replay, two concurrent requests, two
 * instances), exactly one inserts the row; on PostgreSQL the second insert waits for the first's commit, then
 * inserts nothing. Kept until the token would be refused as expired anyway, then purged.
 */
export abstract class UsedTokenRows<
  T extends ObjectLiteral & { jtiHash: string; expiresAt: Date },
> extends ExpiringRows<T> {
  /** False when this token was acted on before. */
  async claim(tx: Tx, used: T): Promise<boolean> {
    const [insert, params] = tx.rows(this.entity).insert(used);
    return (await tx.query(`${insert} ON CONFLICT (jti_hash) DO NOTHING RETURNING id`, params)).rows.length === 1;
  }
}
