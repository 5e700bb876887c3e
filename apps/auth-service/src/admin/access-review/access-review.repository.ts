import { Injectable } from '@nestjs/common';
import { ServiceAccount, User } from '@app/accounts';
import { AuditEvent } from '@app/audit';
import { Tx, UnitOfWork } from '@app/persistence';
import { SigningKey } from '@app/tokens';
import { Passkey } from '@app/webauthn';

const DAY_MS = 86_400_000;

/** Kinds of refused sign-in the review summarises: passkey and provider sign-ins, and client authentication. */
export const FAILED_SIGN_IN_TYPES = ['login', 'token.issued'] as const;

/** Everything an access review reads, as one consistent snapshot of the database. */
export interface AccessReviewSnapshot {
  users: User[];
  passkeys: Passkey[];
  serviceAccounts: ServiceAccount[];
  keys: SigningKey[];
  /** Last successful `token.issued` per subject ("user:<id>" / "service_account:<id>"), any time. */
  lastTokenIssued: Map<string, Date>;
  /** Successful sign-ins per UTC day in the period (days without any are absent). */
  signInsPerDay: { day: string; count: number }[];
  /** Refused sign-ins in the period, one row per recorded event (aggregated ones carry their count). */
  failures: Pick<AuditEvent, 'type' | 'reason' | 'occurredAt' | 'details'>[];
  /**
   * Refusals counted but not yet written (audit-bounds.ts: after the first in its window, an address's refusals of
   * one kind are counted and summarised when the window ends), so the summary is complete up to now.
   */
  pendingFailures: { type: string; reason: string | null; hits: number; lastAt: Date }[];
  keyRotations: AuditEvent[];
}

// Instants are stored as epoch ms in both dialects, so integer division gives the UTC day on SQLite and PostgreSQL.
const SIGN_INS_PER_DAY =
  "SELECT occurred_at / 86400000 AS day, COUNT(*) AS n FROM audit_events WHERE type = 'login' AND outcome = 'success' " +
  'AND occurred_at >= ? AND occurred_at < ? GROUP BY occurred_at / 86400000 ORDER BY 1';
const PENDING_FAILURES =
  'SELECT type, reason, hits, last_at FROM audit_failure_windows WHERE hits > 0 AND last_at >= ? AND type IN (?, ?)';
const LAST_TOKEN_ISSUED =
  "SELECT subject_type, subject_id, MAX(occurred_at) AS at FROM audit_events WHERE type = 'token.issued' AND outcome = 'success' " +
  'AND subject_id IS NOT NULL GROUP BY subject_type, subject_id';

/** The access review's queries (read only). */
@Injectable()
export class AccessReviewRepository {
  constructor(private readonly uow: UnitOfWork) {}

  /**
   * One unit of work, so the sections agree with each other (a person disabled while the report is read is either
   * disabled everywhere in it or nowhere). On PostgreSQL the transaction is made REPEATABLE READ for that: its
   * default (READ COMMITTED) gives each statement its own snapshot. SQLite's transaction already is one.
   */
  read(since: Date, until: Date): Promise<AccessReviewSnapshot> {
    return this.uow.run(async (tx) => {
      if (tx.dialect === 'postgres') await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const m = tx.manager;
      const users = await m.find(User, { order: { username: 'ASC' } });
      const passkeys = await m.find(Passkey, { order: { createdAt: 'ASC' } });
      const serviceAccounts = await m.find(ServiceAccount, { order: { name: 'ASC' } });
      const keys = await m.find(SigningKey, { order: { createdAt: 'ASC' } });
      const lastTokenIssued = await this.lastTokenIssued(tx);
      const signInsPerDay = await this.signInsPerDay(tx, since, until);
      const events = m.getRepository(AuditEvent);
      const failures = await events
        .createQueryBuilder('e')
        .select(['e.id', 'e.type', 'e.reason', 'e.occurredAt', 'e.details'])
        .where(
          "e.outcome = 'failure' AND e.type IN (:...types) AND e.occurred_at >= :since AND e.occurred_at < :until",
          { types: FAILED_SIGN_IN_TYPES, since: since.getTime(), until: until.getTime() },
        )
        .getMany();
      const keyRotations = await events
        .createQueryBuilder('e')
        .where("e.type = 'key.rotated' AND e.occurred_at >= :since AND e.occurred_at < :until", {
          since: since.getTime(),
          until: until.getTime(),
        })
        .orderBy('e.occurred_at', 'ASC')
        .getMany();
      const pending = await tx.query<{
        type: string;
        reason: string | null;
        hits: string | number;
        last_at: string | number;
      }>(PENDING_FAILURES, [since.getTime(), ...FAILED_SIGN_IN_TYPES]);
      const pendingFailures = pending.rows.map((row) => ({
        type: row.type,
        reason: row.reason,
        hits: Number(row.hits),
        lastAt: new Date(Number(row.last_at)),
      }));
      return {
        users,
        passkeys,
        serviceAccounts,
        keys,
        lastTokenIssued,
        signInsPerDay,
        failures,
        pendingFailures,
        keyRotations,
      };
    });
  }

  /** People, their passkeys and their last tokens: what `airflow users list` shows. */
  readPeople(): Promise<Pick<AccessReviewSnapshot, 'users' | 'passkeys' | 'lastTokenIssued'>> {
    return this.uow.run(async (tx) => {
      if (tx.dialect === 'postgres') await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      const users = await tx.manager.find(User, { order: { username: 'ASC' } });
      const passkeys = await tx.manager.find(Passkey, { order: { createdAt: 'ASC' } });
      return { users, passkeys, lastTokenIssued: await this.lastTokenIssued(tx) };
    });
  }

  private async lastTokenIssued(tx: Tx): Promise<Map<string, Date>> {
    const { rows } = await tx.query<{ subject_type: string; subject_id: string; at: string | number }>(
      LAST_TOKEN_ISSUED,
    );
    return new Map(rows.map((row) => [`${row.subject_type}:${row.subject_id}`, new Date(Number(row.at))]));
  }

  private async signInsPerDay(tx: Tx, since: Date, until: Date): Promise<{ day: string; count: number }[]> {
    const { rows } = await tx.query<{ day: string | number; n: string | number }>(SIGN_INS_PER_DAY, [
      since.getTime(),
      until.getTime(),
    ]);
    return rows.map((row) => ({
      day: new Date(Number(row.day) * DAY_MS).toISOString().slice(0, 10),
      count: Number(row.n),
    }));
  }
}
