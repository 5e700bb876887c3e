import type { AuditContext, AuditRecord } from '@app/audit';
import type { SignInMethod } from '@app/accounts';
import type { Tx } from '@app/persistence';

/*
 * In-memory stand-ins for the repositories and writers a service calls, for unit specs of the service's rules
 * (no database). Each records what it was asked, in the order asked, in one shared `calls` list, so a spec can
 * check both what was written and in which order.
 */

/** A unit of work's transaction that must not be used for SQL: fakes only pass it along. */
export const FAKE_TX = {} as Tx;

export type FakeCall =
  | { kind: 'recordLogin'; userId: string; at: Date; method: SignInMethod }
  | { kind: 'audit'; context: AuditContext; record: AuditRecord; occurredAt?: Date }
  | { kind: 'issue'; context: AuditContext; grantee: unknown };

export class FakeLedger {
  readonly calls: FakeCall[] = [];
}

/** UserRepository's sign-in writes. */
export class FakeUserRepository {
  constructor(private readonly ledger: FakeLedger) {}

  recordLogin(_tx: Tx, userId: string, at: Date, method: SignInMethod): Promise<void> {
    this.ledger.calls.push({ kind: 'recordLogin', userId, at, method });
    return Promise.resolve();
  }
}

/** AuditService.record. */
export class FakeAudit {
  constructor(private readonly ledger: FakeLedger) {}

  record(context: AuditContext, record: AuditRecord, _tx?: Tx, occurredAt?: Date): Promise<void> {
    this.ledger.calls.push({ kind: 'audit', context, record, occurredAt });
    return Promise.resolve();
  }
}

/** AccessTokenGrants.issue: answers a token naming the grant. */
export class FakeGrants {
  constructor(private readonly ledger: FakeLedger) {}

  issue(_tx: Tx, context: AuditContext, grantee: { grant: string }) {
    this.ledger.calls.push({ kind: 'issue', context, grantee });
    return Promise.resolve({ access_token: `token-for-${grantee.grant}`, token_type: 'Bearer', expires_in: 60 });
  }
}
