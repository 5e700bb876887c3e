import type { AuditContext, AuditRecord } from '@app/audit';
import type { SignInMethod } from '@app/accounts';
import type { Tx } from '@app/persistence';
import type { Invite, User } from '@app/accounts';
import type { Ceremony, Challenge, Passkey } from '@app/webauthn';
import type { SigningKey, SigningKeyState } from '../../../libs/tokens/src/signing-key.entity';

/*
 * In-memory stand-ins for the repositories and writers a service calls, for unit specs of the service's rules
 * (no database). Each records what it was asked, in the order asked, in one shared `calls` list, so a spec can
 * check both what was written and in which order.
 */

/** A unit of work's transaction that must not be used for SQL: fakes only pass it along. */
export const FAKE_TX = {} as Tx;

export type FakeCall =
  | { kind: 'recordLogin'; userId: string; at: Date; method: SignInMethod }
  | { kind: 'audit'; context: AuditContext; record: AuditRecord }
  | { kind: 'issue'; context: AuditContext; grantee: unknown };

export class FakeLedger {
  readonly calls: FakeCall[] = [];
}

/** UserRepository: the sign-in writes (in the ledger) and the look-ups and inserts, over people in memory. */
export class FakeUserRepository {
  constructor(
    private readonly ledger: FakeLedger,
    readonly users: User[] = [],
  ) {}

  findById(_tx: Tx, id: string): Promise<User | null> {
    return Promise.resolve(this.users.find((u) => u.id === id) ?? null);
  }

  findByUsername(_tx: Tx, username: string): Promise<User | null> {
    return Promise.resolve(this.users.find((u) => u.username === username) ?? null);
  }

  insert(_tx: Tx, user: User): Promise<void> {
    this.users.push(user);
    return Promise.resolve();
  }

  recordLogin(_tx: Tx, userId: string, at: Date, method: SignInMethod): Promise<void> {
    this.ledger.calls.push({ kind: 'recordLogin', userId, at, method });
    return Promise.resolve();
  }
}

/** AuditService.record. */
export class FakeAudit {
  constructor(private readonly ledger: FakeLedger) {}

  record(context: AuditContext, record: AuditRecord, _tx?: Tx): Promise<void> {
    this.ledger.calls.push({ kind: 'audit', context, record });
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

/** UnitOfWork.run: runs the work at once with FAKE_TX (no transaction: the fakes below keep their state in memory). */
export class FakeUnitOfWork {
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return work(FAKE_TX);
  }
}

/** The CLOCK: stands still at `at` until a spec moves it. */
export class FakeClock {
  constructor(public at: Date) {}

  now(): Date {
    return new Date(this.at.getTime());
  }

  advance(ms: number): void {
    this.at = new Date(this.at.getTime() + ms);
  }
}

/** ChallengeRepository: single-use rows, taken at most once. */
export class FakeChallengeRepository {
  readonly rows: Challenge[] = [];

  insert(_tx: Tx, challenge: Challenge): Promise<void> {
    this.rows.push(challenge);
    return Promise.resolve();
  }

  take(_tx: Tx, challenge: string, ceremony: Ceremony): Promise<Challenge | null> {
    const index = this.rows.findIndex((row) => row.challenge === challenge && row.ceremony === ceremony);
    return Promise.resolve(index < 0 ? null : (this.rows.splice(index, 1)[0] ?? null));
  }

  purgeExpired(_tx: Tx, now: Date): Promise<number> {
    const before = this.rows.length;
    this.rows.splice(0, before, ...this.rows.filter((row) => row.expiresAt.getTime() > now.getTime()));
    return Promise.resolve(before - this.rows.length);
  }
}

/** PasskeyRepository's sign-in reads and writes, over passkeys and their owners held in memory. */
export class FakePasskeyRepository {
  readonly passkeys: Passkey[] = [];
  readonly users: User[] = [];

  allowedCredentials(_tx: Tx, username: string) {
    const user = this.users.find((u) => u.username === username);
    if (!user) return Promise.resolve(null);
    const credentials = this.passkeys.filter((p) => p.userId === user.id && !p.revokedAt && !p.flaggedAt);
    return Promise.resolve({ userId: user.id, credentials });
  }

  /** Every person's active credentials, people in the order they were added (enrollment order). */
  enrolledCredentials(_tx: Tx) {
    return Promise.resolve(
      this.users.flatMap((u) =>
        this.passkeys
          .filter((p) => p.userId === u.id && !p.revokedAt)
          .map((p) => ({ userId: u.id, credentialId: p.credentialId, transports: [...p.transports] })),
      ),
    );
  }

  findWithOwner(_tx: Tx, credentialId: string) {
    const passkey = this.passkeys.find((p) => p.credentialId === credentialId);
    if (!passkey) return Promise.resolve(null);
    return Promise.resolve({ passkey: { ...passkey }, owner: this.users.find((u) => u.id === passkey.userId) ?? null });
  }

  advanceCounter(
    _tx: Tx,
    passkey: Pick<Passkey, 'id'>,
    expected: number,
    next: { counter: number; backedUp: boolean; at: Date },
  ): Promise<boolean> {
    const stored = this.passkeys.find((p) => p.id === passkey.id);
    if (!stored || stored.counter !== expected || stored.revokedAt || stored.flaggedAt) return Promise.resolve(false);
    Object.assign(stored, { counter: next.counter, backedUp: next.backedUp, lastUsedAt: next.at });
    return Promise.resolve(true);
  }

  flag(_tx: Tx, passkeyId: string, reason: string, at: Date): Promise<boolean> {
    const stored = this.passkeys.find((p) => p.id === passkeyId);
    if (!stored || stored.flaggedAt) return Promise.resolve(false);
    Object.assign(stored, { flaggedAt: at, flagReason: reason });
    return Promise.resolve(true);
  }

  activeOf(_tx: Tx, userId: string): Promise<Passkey[]> {
    return Promise.resolve(this.passkeys.filter((p) => p.userId === userId && !p.revokedAt));
  }

  existsByCredentialId(_tx: Tx, credentialId: string): Promise<boolean> {
    return Promise.resolve(this.passkeys.some((p) => p.credentialId === credentialId));
  }

  insert(_tx: Tx, passkey: Passkey): Promise<void> {
    this.passkeys.push(passkey);
    return Promise.resolve();
  }
}

/** SigningKeyRepository over rows in memory, in insertion order (= createdAt order). */
export class FakeSigningKeyRepository {
  readonly rows: SigningKey[] = [];

  existsInState(_tx: Tx, state: SigningKeyState): Promise<boolean> {
    return Promise.resolve(this.rows.some((k) => k.state === state));
  }

  findInState(_tx: Tx, state: SigningKeyState): Promise<SigningKey | null> {
    return Promise.resolve(this.rows.find((k) => k.state === state) ?? null);
  }

  requireInState(_tx: Tx, state: SigningKeyState): Promise<SigningKey> {
    const key = this.rows.find((k) => k.state === state);
    return key ? Promise.resolve(key) : Promise.reject(new Error(`no ${state} key`));
  }

  findInStates(_tx: Tx, states: SigningKeyState[]): Promise<SigningKey[]> {
    return Promise.resolve(this.rows.filter((k) => states.includes(k.state)));
  }

  retiredBefore(_tx: Tx, now: Date): Promise<SigningKey[]> {
    return Promise.resolve(
      this.rows.filter((k) => k.state === 'retired' && k.publishUntil && k.publishUntil.getTime() < now.getTime()),
    );
  }

  listNewest(_tx: Tx): Promise<SigningKey[]> {
    return Promise.resolve([...this.rows].reverse());
  }

  all(_tx: Tx): Promise<SigningKey[]> {
    return Promise.resolve([...this.rows]);
  }

  insert(_tx: Tx, key: SigningKey): Promise<void> {
    this.rows.push({ ...key });
    return Promise.resolve();
  }

  moveState(_tx: Tx, id: string, from: SigningKeyState, changes: Partial<SigningKey>): Promise<boolean> {
    const key = this.rows.find((k) => k.id === id && k.state === from);
    if (key) Object.assign(key, changes);
    return Promise.resolve(key !== undefined);
  }

  update(_tx: Tx, id: string, changes: Partial<SigningKey>): Promise<void> {
    Object.assign(this.rows.find((k) => k.id === id) ?? {}, changes);
    return Promise.resolve();
  }
}

/** InviteRepository's reads, over invites in memory (found by token hash or id). */
export class FakeInviteRepository {
  readonly rows: Invite[] = [];

  findById(_tx: Tx, id: string): Promise<Invite | null> {
    return Promise.resolve(this.rows.find((i) => i.id === id) ?? null);
  }

  findByTokenHash(_tx: Tx, tokenHash: string): Promise<Invite | null> {
    return Promise.resolve(this.rows.find((i) => i.tokenHash === tokenHash) ?? null);
  }

  /** The compare-and-set: only a pending invite (not used, not revoked, not expired at `now`) becomes used. */
  markUsed(_tx: Tx, inviteId: string, userId: string, now: Date): Promise<boolean> {
    const invite = this.rows.find((i) => i.id === inviteId);
    if (!invite || invite.usedAt || invite.revokedAt || invite.expiresAt.getTime() <= now.getTime())
      return Promise.resolve(false);
    Object.assign(invite, { usedAt: now, userId });
    return Promise.resolve(true);
  }
}

/** A SingleUseRows repository (flows, pending provider sign-ins): rows found by `key`, taken at most once. */
export class FakeSingleUseRows<T extends object> {
  readonly rows: T[] = [];

  constructor(private readonly key: keyof T) {}

  insert(_tx: Tx, row: T): Promise<void> {
    this.rows.push(row);
    return Promise.resolve();
  }

  find(_tx: Tx, value: unknown): Promise<T | null> {
    return Promise.resolve(this.rows.find((row) => row[this.key] === value) ?? null);
  }

  take(_tx: Tx, value: unknown): Promise<T | null> {
    const index = this.rows.findIndex((row) => row[this.key] === value);
    return Promise.resolve(index < 0 ? null : (this.rows.splice(index, 1)[0] ?? null));
  }
}

/** ProviderSessionRepository: sids a provider signed people in with; `subjects` maps a user id to the provider's sub. */
export class FakeProviderSessionRepository {
  readonly sessions: { idpIssuer: string; sid: string; userId: string; expiresAt: Date }[] = [];
  readonly subjects = new Map<string, string>();

  record(_tx: Tx, session: { idpIssuer: string; sid: string; userId: string; expiresAt: Date }): Promise<void> {
    this.sessions.push({ ...session });
    return Promise.resolve();
  }

  subjectOf(_tx: Tx, issuer: string, sid: string, now: Date): Promise<string | null> {
    const found = this.sessions.find(
      (s) => s.idpIssuer === issuer && s.sid === sid && s.expiresAt.getTime() > now.getTime(),
    );
    return Promise.resolve(found ? (this.subjects.get(found.userId) ?? null) : null);
  }

  forgetPerson(_tx: Tx, issuer: string, subject: string): Promise<number> {
    const before = this.sessions.length;
    const kept = this.sessions.filter((s) => s.idpIssuer !== issuer || this.subjects.get(s.userId) !== subject);
    this.sessions.splice(0, before, ...kept);
    return Promise.resolve(before - kept.length);
  }
}

/** UsedLogoutTokenRepository.claim: a jti hash can be claimed once. */
export class FakeUsedLogoutTokenRepository {
  readonly claimed = new Set<string>();

  claim(_tx: Tx, token: { jtiHash: string }): Promise<boolean> {
    if (this.claimed.has(token.jtiHash)) return Promise.resolve(false);
    this.claimed.add(token.jtiHash);
    return Promise.resolve(true);
  }
}

/** UsedClientAssertionRepository.claim: the same contract, a jti hash can be claimed once. */
export class FakeUsedClientAssertionRepository extends FakeUsedLogoutTokenRepository {}
