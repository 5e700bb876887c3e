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
