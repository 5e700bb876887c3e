import { authenticatorName, Passkey } from '@app/webauthn';
import { serviceAccountView } from '../views';
import type { AccessReviewSnapshot } from './access-review.repository';
import type {
  AccessReviewFailure,
  AccessReviewKeyRotation,
  AccessReviewPasskey,
  AccessReviewPerson,
  AccessReviewServiceAccount,
  Compliance,
} from './access-review.views';

/*
 * The access review's sections, built from one database snapshot without further I/O (so the rules below are tested
 * without a database). Roles are not here: they are Airflow's (role_mapping, dag_access, teams), and the Airflow
 * command adds them.
 */

const DAY_MS = 86_400_000;

/** Until an authenticator policy exists there is nothing to be compliant with: said, never guessed. */
export const NOT_EVALUATED: Compliance = { status: 'not_evaluated', reason: 'no authenticator policy is configured' };

/** Judges a passkey against the authenticator policy for its owner's groups now (AuthenticatorPolicyService). */
export interface ComplianceJudge {
  passkey(passkey: Passkey, groups: string[]): Compliance;
  modelName(aaguid: string): string | undefined;
}

/** A person is compliant when they have an active passkey and every active one is allowed. */
function personCompliance(passkeys: AccessReviewPasskey[]): Compliance {
  const active = passkeys.filter((p) => p.status !== 'revoked');
  const bad = active.find((p) => p.compliance.status === 'non_compliant');
  if (bad) return { status: 'non_compliant', reason: bad.compliance.reason };
  if (active.length === 0) return { status: 'non_compliant', reason: 'no active passkey' };
  return { status: 'compliant' };
}

export interface ReviewWindow {
  since: Date;
  until: Date;
  dormantDays: number;
}

export interface AccessReviewBody {
  people: AccessReviewPerson[];
  serviceAccounts: AccessReviewServiceAccount[];
  signInsPerDay: { day: string; count: number }[];
  failedSignIns: { attempts: number; byReason: AccessReviewFailure[] };
  keyRotations: AccessReviewKeyRotation[];
}

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

/**
 * Dormant: enabled, and no sign-in (or, never signed in, no creation) within `dormantDays` before the report's end.
 * Someone invited yesterday who has not signed in yet is not dormant; someone created a year ago who never did is.
 */
function isDormant(lastActiveAt: Date, disabled: boolean, window: ReviewWindow): boolean {
  return !disabled && lastActiveAt.getTime() < window.until.getTime() - window.dormantDays * DAY_MS;
}

/** Each person with their passkeys, last sign-in and state (the people section, and `airflow users list`). */
export function buildPeople(
  snapshot: Pick<AccessReviewSnapshot, 'users' | 'passkeys' | 'lastTokenIssued'>,
  window: ReviewWindow,
  judge?: ComplianceJudge,
): AccessReviewPerson[] {
  const passkeysOf = new Map<string, AccessReviewPasskey[]>();
  const groupsOf = new Map(snapshot.users.map((u) => [u.id, u.groups]));
  for (const passkey of snapshot.passkeys) {
    const list = passkeysOf.get(passkey.userId) ?? [];
    list.push({
      id: passkey.id,
      label: passkey.label,
      model: (judge ? judge.modelName(passkey.aaguid) : authenticatorName(passkey.aaguid)) ?? null,
      aaguid: passkey.aaguid,
      deviceBound: passkey.deviceType === 'singleDevice',
      backedUp: passkey.backedUp,
      status: passkey.revokedAt ? 'revoked' : passkey.flaggedAt ? 'flagged' : 'active',
      createdAt: iso(passkey.createdAt)!,
      lastUsedAt: iso(passkey.lastUsedAt),
      compliance:
        judge && !passkey.revokedAt ? judge.passkey(passkey, groupsOf.get(passkey.userId) ?? []) : NOT_EVALUATED,
    });
    passkeysOf.set(passkey.userId, list);
  }
  return snapshot.users.map((user): AccessReviewPerson => {
    const lastToken = snapshot.lastTokenIssued.get(`user:${user.id}`) ?? null;
    const disabled = !!user.disabledAt;
    return {
      id: user.id,
      username: user.username,
      displayName: user.displayName,
      groups: user.groups,
      status: disabled ? 'disabled' : 'active',
      createdAt: iso(user.createdAt)!,
      identityProvider: user.idpIssuer,
      lastSignInAt: iso(user.lastLoginAt),
      lastSignInMethod: user.lastLoginMethod,
      lastTokenIssuedAt: iso(lastToken),
      dormant: isDormant(user.lastLoginAt ?? user.createdAt, disabled, window),
      disabledAt: iso(user.disabledAt),
      // The service refuses a disabled person's tokens at once (it re-reads the account on every request); what is
      // checked here is that none was issued after the disabling, from the trail.
      sessionsEnded: user.disabledAt ? !(lastToken && lastToken.getTime() > user.disabledAt.getTime()) : null,
      passkeys: passkeysOf.get(user.id) ?? [],
      compliance: judge ? personCompliance(passkeysOf.get(user.id) ?? []) : NOT_EVALUATED,
    };
  });
}

export function buildAccessReview(
  snapshot: AccessReviewSnapshot,
  window: ReviewWindow,
  judge?: ComplianceJudge,
): AccessReviewBody {
  const people = buildPeople(snapshot, window, judge);
  const serviceAccounts = snapshot.serviceAccounts.map((account): AccessReviewServiceAccount => {
    const lastUsed = snapshot.lastTokenIssued.get(`service_account:${account.id}`) ?? null;
    const disabled = !!account.disabledAt;
    return {
      // The admin API's service-account view (never the secret or its hash), plus what the review adds.
      ...serviceAccountView(account),
      createdAt: iso(account.createdAt)!,
      status: disabled ? 'disabled' : 'active',
      lastUsedAt: iso(lastUsed),
      dormant: isDormant(lastUsed ?? account.createdAt, disabled, window),
    };
  });
  return {
    people,
    serviceAccounts,
    signInsPerDay: everyDay(snapshot.signInsPerDay, window),
    failedSignIns: summariseFailures(snapshot),
    keyRotations: rotations(snapshot),
  };
}

/** One entry per UTC day of the period, zeros included, so a chart's x axis is the calendar. */
function everyDay(counted: { day: string; count: number }[], window: ReviewWindow): { day: string; count: number }[] {
  const byDay = new Map(counted.map((entry) => [entry.day, entry.count]));
  const days: { day: string; count: number }[] = [];
  const first = Math.floor(window.since.getTime() / DAY_MS);
  const last = Math.floor((window.until.getTime() - 1) / DAY_MS);
  for (let day = first; day <= last; day++) {
    const key = new Date(day * DAY_MS).toISOString().slice(0, 10);
    days.push({ day: key, count: byDay.get(key) ?? 0 });
  }
  return days;
}

/** Refusals per kind and reason; an aggregated event (a flood from one address in one window) counts its attempts. */
function summariseFailures(snapshot: AccessReviewSnapshot): { attempts: number; byReason: AccessReviewFailure[] } {
  const rows = new Map<string, AccessReviewFailure>();
  const add = (kind: string, reason: string | null, count: number, at: Date) => {
    const key = `${kind}|${reason ?? ''}`;
    const row = rows.get(key) ?? { kind, reason: reason ?? 'unknown', attempts: 0, lastAt: at.toISOString() };
    row.attempts += count;
    if (at.toISOString() > row.lastAt) row.lastAt = at.toISOString();
    rows.set(key, row);
  };
  for (const event of snapshot.failures) {
    const count =
      event.details?.aggregated === true && typeof event.details.count === 'number' ? event.details.count : 1;
    add(failureKind(event.type, event.details?.method), event.reason, count, event.occurredAt);
  }
  // Unwritten counts carry no method; a pending 'login' window is attributed to passkey sign-ins.
  for (const window of snapshot.pendingFailures)
    add(failureKind(window.type, undefined), window.reason, window.hits, window.lastAt);
  const byReason = [...rows.values()].sort(
    (a, b) => b.attempts - a.attempts || a.kind.localeCompare(b.kind) || a.reason.localeCompare(b.reason),
  );
  return { attempts: byReason.reduce((sum, row) => sum + row.attempts, 0), byReason };
}

function failureKind(type: string, method: unknown): string {
  if (type === 'token.issued') return 'client_credentials';
  return typeof method === 'string' ? method : 'passkey';
}

function rotations(snapshot: AccessReviewSnapshot): AccessReviewKeyRotation[] {
  return snapshot.keyRotations.map((event) => ({
    at: iso(event.occurredAt)!,
    by: event.actorType === 'system' ? 'schedule' : `${event.actorType}${event.actorId ? ` ${event.actorId}` : ''}`,
    activeKid: typeof event.details.active === 'string' ? event.details.active : null,
    retiredKid: typeof event.details.retired === 'string' ? event.details.retired : null,
  }));
}
