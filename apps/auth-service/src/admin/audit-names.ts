import { Injectable } from '@nestjs/common';
import { ServiceAccountRepository, UserRepository } from '@app/accounts';
import type { AuditEvent } from '@app/audit';
import { Tx, UnitOfWork } from '@app/persistence';
import { auditEventView } from './views';

/*
 * The trail records ids (stable, and part of each event's hash); people read and search by name. Names are looked
 * up when the trail is read, from the users and service accounts as they are now, and are never stored in a row: a
 * renamed or deleted account does not change what the chain vouches for. An id with no account (deleted, an
 * invite, a key, a CLI user) keeps a null name and the reader shows the id.
 */

/** The kinds of actor and subject whose ids name an account. */
type AccountKind = 'user' | 'service_account';
const isAccountKind = (type: string | null): type is AccountKind => type === 'user' || type === 'service_account';
const BATCH = 500;

/** An event as the admin API shows it: the stored fields (ids included) plus the names they stand for now. */
export type NamedAuditEventView = ReturnType<typeof auditEventView> & {
  actorName: string | null;
  subjectName: string | null;
};

/** Names looked up for one read (a page, or an export): each account is read once however many events name it. */
export class AuditNameBook {
  private readonly names = new Map<string, string | null>();

  constructor(
    private readonly uow: UnitOfWork,
    private readonly accounts: AccountNames,
  ) {}

  /** Looks up the accounts named by these events that this book does not know yet. */
  async learn(events: readonly AuditEvent[]): Promise<void> {
    const wanted: Record<AccountKind, Set<string>> = { user: new Set(), service_account: new Set() };
    for (const event of events) {
      for (const [type, id] of [
        [event.actorType, event.actorId],
        [event.subjectType, event.subjectId],
      ] as const) {
        if (id && isAccountKind(type) && !this.names.has(`${type}:${id}`)) wanted[type].add(id);
      }
    }
    if (wanted.user.size === 0 && wanted.service_account.size === 0) return;
    await this.uow.run(async (tx) => {
      for (const kind of Object.keys(wanted) as AccountKind[]) {
        const ids = [...wanted[kind]];
        for (const id of ids) this.names.set(`${kind}:${id}`, null);
        for (let i = 0; i < ids.length; i += BATCH) {
          for (const [id, name] of await this.accounts.namesByIds(tx, kind, ids.slice(i, i + BATCH)))
            this.names.set(`${kind}:${id}`, name);
        }
      }
    });
  }

  view(event: AuditEvent): NamedAuditEventView {
    return {
      ...auditEventView(event),
      actorName: this.nameOf(event.actorType, event.actorId),
      subjectName: this.nameOf(event.subjectType, event.subjectId),
    };
  }

  private nameOf(type: string | null, id: string | null): string | null {
    return id && isAccountKind(type) ? (this.names.get(`${type}:${id}`) ?? null) : null;
  }
}

/** Where the names come from: the accounts' own repositories. */
@Injectable()
export class AccountNames {
  constructor(
    readonly users: UserRepository,
    readonly serviceAccounts: ServiceAccountRepository,
  ) {}

  /** id → the name people know the account by, for the accounts of one kind among `ids`. */
  namesByIds(tx: Tx, kind: AccountKind, ids: string[]): Promise<Map<string, string>> {
    return kind === 'user' ? this.users.usernamesByIds(tx, ids) : this.serviceAccounts.namesByIds(tx, ids);
  }
}

@Injectable()
export class AuditNames {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly accounts: AccountNames,
  ) {}

  book(): AuditNameBook {
    return new AuditNameBook(this.uow, this.accounts);
  }

  /**
   * The stored ids an admin's filter text can mean: the text itself (an id, or a CLI user as recorded), the user
   * with that username, and the service account with that name or client id. Usernames compare case-insensitively,
   * as at sign-in.
   */
  async idsFor(text: string): Promise<string[]> {
    const ids = new Set([text]);
    await this.uow.run(async (tx) => {
      const users = await this.accounts.users.idsByUsername(tx, text.trim().toLowerCase());
      const accounts = await this.accounts.serviceAccounts.idsByNameOrClientId(tx, text);
      for (const id of [...users, ...accounts]) ids.add(id);
    });
    return [...ids];
  }
}
