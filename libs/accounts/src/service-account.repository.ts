import { Injectable } from '@nestjs/common';
import { In, IsNull } from 'typeorm';
import { Tx } from '@app/persistence';
import { SessionsEndedReason } from './session-generation';
import { ServiceAccount } from './service-account.entity';

/**
 * Every column, so the hot-path read keeps up with the entity as columns are added; the row is mapped through the
 * entity's own column transforms.
 */
const BY_CLIENT_ID = 'SELECT * FROM service_accounts WHERE client_id = ?';
/** An increment in SQL, not read-modify-write: two concurrent endings both count. */
const END_TOKENS =
  'UPDATE service_accounts SET session_generation = session_generation + 1, sessions_ended_reason = ?, ' +
  'sessions_ended_at = ? WHERE id = ?';

/** The service-account aggregate's queries: the token grant's read is one constant, prepared statement. */
@Injectable()
export class ServiceAccountRepository {
  findById(tx: Tx, id: string): Promise<ServiceAccount | null> {
    return tx.manager.findOneBy(ServiceAccount, { id });
  }

  existsByName(tx: Tx, name: string): Promise<boolean> {
    return tx.manager.existsBy(ServiceAccount, { name });
  }

  /** Every account, by name. */
  list(tx: Tx): Promise<ServiceAccount[]> {
    return tx.manager.find(ServiceAccount, { order: { name: 'ASC' } });
  }

  /** The enabled agents, by name: the ones a person may let act for them. */
  enabledAgents(tx: Tx): Promise<ServiceAccount[]> {
    return tx.manager.find(ServiceAccount, { where: { agent: true, disabledAt: IsNull() }, order: { name: 'ASC' } });
  }

  async insert(tx: Tx, account: ServiceAccount): Promise<void> {
    await tx.manager.insert(ServiceAccount, account);
  }

  async update(tx: Tx, accountId: string, changes: Partial<ServiceAccount>): Promise<void> {
    await tx.manager.update(ServiceAccount, { id: accountId }, changes);
  }

  async findByClientId(tx: Tx, clientId: string): Promise<ServiceAccount | null> {
    const { rows } = await tx.query(BY_CLIENT_ID, [clientId]);
    return rows[0] ? tx.rows(ServiceAccount).fromRow(rows[0]) : null;
  }

  /** By id, client id or name, in that order (admins type any of them). */
  async resolve(tx: Tx, idOrNameOrClientId: string): Promise<ServiceAccount | null> {
    const repo = tx.manager.getRepository(ServiceAccount);
    return (
      (await repo.findOneBy({ id: idOrNameOrClientId })) ??
      (await repo.findOneBy({ clientId: idOrNameOrClientId })) ??
      (await repo.findOneBy({ name: idOrNameOrClientId }))
    );
  }

  /** Every token this account holds now is refused from here on (see session-generation.ts). */
  async endTokens(tx: Tx, accountId: string, reason: SessionsEndedReason, at: Date): Promise<void> {
    await tx.query(END_TOKENS, [reason, tx.rows(ServiceAccount).param('sessionsEndedAt', at), accountId]);
  }

  /** id → name for the given ids that are service accounts (others are left out). */
  async namesByIds(tx: Tx, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const accounts = await tx.manager.find(ServiceAccount, {
      select: { id: true, name: true },
      where: { id: In(ids) },
    });
    return new Map(accounts.map((account) => [account.id, account.name]));
  }

  /** The ids of accounts whose name or client id is `text`. */
  async idsByNameOrClientId(tx: Tx, text: string): Promise<string[]> {
    const accounts = await tx.manager.find(ServiceAccount, {
      select: { id: true },
      where: [{ name: text }, { clientId: text }],
    });
    return accounts.map((account) => account.id);
  }
}
