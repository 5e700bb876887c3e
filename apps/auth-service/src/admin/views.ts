import { Invite, inviteState, ServiceAccount, User } from '@app/accounts';
import type { AuditEvent } from '@app/audit';
import { CliSignIn, cliSignInState } from '@app/cli-sign-in';
import type { SigningKey } from '@app/tokens';
import { authenticatorName, AuthenticatorPolicyService, Passkey } from '@app/webauthn';
import type { CliSignInView, PasskeyView, UserDetailView, UserView } from './user-views';

/*
 * The one place entities become API/CLI output. Each view lists its fields explicitly, so a column added to an
 * entity later (a hash, key material) never reaches a response by accident.
 */

const iso = (date: Date | null | undefined): string | null => (date ? date.toISOString() : null);

export function userView(user: User): UserView {
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    groups: user.groups,
    disabled: !!user.disabledAt,
    createdAt: iso(user.createdAt),
    lastLoginAt: iso(user.lastLoginAt),
    lastLoginMethod: user.lastLoginMethod,
    idp: user.idpIssuer,
    lastIdpLoginAt: iso(user.lastIdpLoginAt),
    ...sessionsView(user),
  };
}

/** What Airflow's re-check compares a session's or token's `session_gen` with, and why it last changed. */
function sessionsView(account: User | ServiceAccount) {
  return {
    sessionGeneration: account.sessionGeneration,
    sessionsEndedReason: account.sessionsEndedReason,
    sessionsEndedAt: iso(account.sessionsEndedAt),
  };
}

export function passkeyView(passkey: Passkey): PasskeyView {
  return {
    id: passkey.id,
    label: passkey.label,
    createdAt: iso(passkey.createdAt),
    lastUsedAt: iso(passkey.lastUsedAt),
    revokedAt: iso(passkey.revokedAt),
    flaggedAt: iso(passkey.flaggedAt),
    flagReason: passkey.flagReason,
    backedUp: passkey.backedUp,
    deviceType: passkey.deviceType,
    aaguid: passkey.aaguid,
    authenticator: authenticatorName(passkey.aaguid) ?? null,
    policyReason: passkey.policyReason ?? null,
  };
}

/** A person's view with what the authenticator policy says: their compliance, and each passkey's deadline. */
export function withPolicy(
  view: UserDetailView,
  passkeys: Passkey[],
  policy: AuthenticatorPolicyService,
): UserDetailView {
  const byId = new Map(passkeys.map((p) => [p.id, p]));
  return {
    ...view,
    compliance: policy.personCompliance(passkeys),
    passkeys: view.passkeys.map((v) => {
      const passkey = byId.get(v.id);
      return {
        ...v,
        authenticator: (passkey && policy.modelName(passkey.aaguid)) ?? v.authenticator,
        notAllowedAfter: (passkey && policy.noticeOf(passkey)?.notAllowedAfter) ?? null,
      };
    }),
  };
}

/** @param cliSignIns the person's live rows (pending codes and command lines); only the signed-in ones are shown. */
export function userDetailView(user: User, passkeys: Passkey[], cliSignIns: CliSignIn[], now: Date): UserDetailView {
  return { ...userView(user), passkeys: passkeys.map(passkeyView), commandLines: commandLineViews(cliSignIns, now) };
}

/** The command lines signed in, of a person's live rows (what admins and Airflow see; pending codes are left out). */
export function commandLineViews(cliSignIns: CliSignIn[], now: Date): CliSignInView[] {
  return cliSignIns.map((row) => cliSignInView(row, now)).filter((view) => view.state === 'signed_in');
}

export function cliSignInView(row: CliSignIn, now: Date): CliSignInView {
  return {
    id: row.id,
    state: cliSignInState(row, now),
    createdAt: row.createdAt.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    usedAt: iso(row.usedAt),
    revokedAt: iso(row.revokedAt),
    lastUsedAt: iso(row.lastUsedAt),
    createdFrom: row.createdFrom,
    usedFrom: row.usedFrom,
    client: row.client,
  };
}

/**
 * Never includes the token (only its hash is stored anyway). `createdByName`: the creator's username or
 * service-account name (from InvitesService.creatorNames), else what `createdBy` holds ('cli', or an id since deleted).
 */
export function inviteView(invite: Invite, now: Date, creatorNames: ReadonlyMap<string, string> = new Map()) {
  return {
    id: invite.id,
    username: invite.username,
    displayName: invite.displayName,
    groups: invite.groups,
    state: inviteState(invite, now),
    createdBy: invite.createdBy,
    createdByName: creatorNames.get(invite.createdBy) ?? invite.createdBy,
    createdAt: iso(invite.createdAt),
    expiresAt: iso(invite.expiresAt),
    usedAt: iso(invite.usedAt),
    revokedAt: iso(invite.revokedAt),
    userId: invite.userId,
  };
}

/** Never includes the secret or its hash. */
export function serviceAccountView(account: ServiceAccount) {
  return {
    id: account.id,
    name: account.name,
    clientId: account.clientId,
    groups: account.groups,
    scopes: account.scopes,
    agent: account.agent,
    /** The registered public keys (private_key_jwt): public by nature, shown so an admin can compare kids. */
    jwks: account.jwks,
    disabled: !!account.disabledAt,
    createdBy: account.createdBy,
    createdAt: iso(account.createdAt),
    secretRotatedAt: iso(account.secretRotatedAt),
    disabledAt: iso(account.disabledAt),
    ...sessionsView(account),
  };
}

/** Metadata only: neither the public JWK (that is what the JWKS is for) nor the encrypted private key. */
export function signingKeyView(key: SigningKey) {
  return {
    kid: key.kid,
    alg: key.alg,
    state: key.state,
    createdAt: iso(key.createdAt),
    activatedAt: iso(key.activatedAt),
    retiredAt: iso(key.retiredAt),
    publishUntil: iso(key.publishUntil),
  };
}

export function auditEventView(event: AuditEvent) {
  return {
    id: event.id,
    occurredAt: iso(event.occurredAt),
    type: event.type,
    outcome: event.outcome,
    reason: event.reason,
    actorType: event.actorType,
    actorId: event.actorId,
    subjectType: event.subjectType,
    subjectId: event.subjectId,
    clientIp: event.clientIp,
    userAgent: event.userAgent,
    details: event.details,
    // The hash chain (libs/audit/src/audit-chain.ts), so an export can be verified offline.
    seq: event.seq,
    prevHash: event.prevHash,
    hash: event.hash,
  };
}
