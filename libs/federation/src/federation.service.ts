import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { FederatedIdentity, groupsFromProvider } from '@app/accounts';
import { CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { FederatedLogin, PasskeyStep } from './federated-login.entity';
import { FederatedLoginRepository } from './federated-login.repository';
import { OidcFlow } from './oidc-flow.entity';
import { OidcFlowRepository } from './oidc-flow.repository';
import {
  IdTokenClaims,
  LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS,
  LOGOUT_TOKEN_MAX_AGE_SECONDS,
  MAX_SID_LENGTH,
  OidcRelyingParty,
  VerifiedLogoutToken,
} from './oidc-relying-party.service';
import { ProviderSession } from './provider-session.entity';
import { decideSignIn } from './sign-in-policy';
import { ProviderSessionRepository } from './provider-session.repository';
import { UsedLogoutToken } from './used-logout-token.entity';
import { UsedLogoutTokenRepository } from './used-logout-token.repository';

export interface StartedFlow {
  /** Where the browser goes next: the provider's authorization endpoint. */
  authorizationUrl: string;
  /** Kept by the plugin in an httponly cookie and presented with the callback: binds the flow to this browser. */
  binding: string;
}

/** A provider sign-in that passed every check, and whether the passkey must now complete it. */
export interface VerifiedFederation {
  /** Its groups in their canonical form: the list every decision below and the stored account use. */
  identity: FederatedIdentity;
  passkeyRequired: boolean;
  /** How many names of the groups claim the group-name rule refused (left out of every decision, never stored). */
  ignoredGroups: number;
  /** The provider session (the ID token's `sid`) this sign-in belongs to, when the provider names one. */
  sid?: string;
}

/** The person whose sessions a logout token ends, by the provider's (issuer, sub). */
export interface LogoutTarget {
  issuer: string;
  subject: string;
}

/**
 * A used jti is remembered as long as its token could still be accepted: `iat` at most the maximum age (plus the
 * clock leeway) in the past, and at most the leeway in the future.
 */
const USED_JTI_RETENTION_MS = (LOGOUT_TOKEN_MAX_AGE_SECONDS + 2 * LOGOUT_TOKEN_CLOCK_TOLERANCE_SECONDS) * 1000;

const MAX_QUERY_LENGTH = 4096;

function sha256Hex(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && timingSafeEqual(x, y);
}

function claimString(claims: IdTokenClaims, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/**
 * The provider sign-in: start (flow stored server side, bound to the browser) and finish (flow taken once, code
 * exchanged, ID token verified, policy applied: allowed groups, whether a passkey must complete the sign-in).
 */
@Injectable()
export class FederationService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly flows: OidcFlowRepository,
    private readonly pendingLogins: FederatedLoginRepository,
    private readonly relyingParty: OidcRelyingParty,
    private readonly providerSessions: ProviderSessionRepository,
    private readonly usedLogoutTokens: UsedLogoutTokenRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** What the login page may show; nothing secret. */
  describe(): { enabled: boolean; displayName?: string } {
    return this.relyingParty.configured
      ? { enabled: true, displayName: this.relyingParty.settings.displayName }
      : { enabled: false };
  }

  async start(): Promise<StartedFlow> {
    const settings = this.relyingParty.settings;
    const request = this.relyingParty.newRequest();
    // Built before anything is stored: a provider that cannot be reached leaves no flow behind.
    const authorizationUrl = await this.relyingParty.authorizationUrl(request);
    const binding = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const flow = Object.assign(new OidcFlow(), {
      id: randomUUID(),
      ...request,
      bindingHash: sha256Hex(binding),
      createdAt: now,
      expiresAt: new Date(now.getTime() + settings.flowTtlSeconds * 1000),
    });
    await this.uow.run((tx) => this.flows.insert(tx, flow));
    return { authorizationUrl, binding };
  }

  /**
   * Finishes a provider sign-in from the callback's query string. The flow is consumed whatever happens next (a
   * replayed or refused callback can never be retried), and the browser must be the one that started it.
   */
  async finish(callbackQuery: string, binding: string): Promise<VerifiedFederation> {
    const settings = this.relyingParty.settings;
    const query = callbackQuery.replace(/^\?/, '');
    if (query.length > MAX_QUERY_LENGTH)
      throw new AppError(ErrorCode.InvalidRequest, 'the callback query is too long', 'callback_too_long');
    const state = new URLSearchParams(query).get('state');
    if (!state)
      throw new AppError(
        ErrorCode.InvalidChallenge,
        'this sign-in attempt is unknown or was already used; start again',
        'state_missing',
      );
    const flow = await this.uow.run((tx) => this.flows.take(tx, state));
    if (!flow)
      throw new AppError(
        ErrorCode.InvalidChallenge,
        'this sign-in attempt is unknown or was already used; start again',
        'state_unknown',
      );
    if (flow.expiresAt.getTime() <= this.clock.now().getTime())
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in attempt expired; start again', 'state_expired');
    if (!sameHash(flow.bindingHash, sha256Hex(binding))) {
      throw new AppError(
        ErrorCode.InvalidChallenge,
        'this sign-in was started in another browser; start again',
        'flow_binding_mismatch',
      );
    }
    const claims = await this.relyingParty.exchange(query, flow);
    const { identity, ignoredGroups } = this.identityFrom(claims);
    const { allowed, passkeyRequired } = decideSignIn(settings, identity.groups);
    if (!allowed) {
      throw new AppError(
        ErrorCode.Forbidden,
        'your identity provider account is not in a group allowed to sign in to Airflow',
        'group_not_allowed',
      );
    }
    const sid = claimString(claims, 'sid');
    return {
      identity,
      passkeyRequired,
      ignoredGroups,
      // A sid longer than its column is not recorded: that provider session can then only be ended by sub.
      ...(sid && sid.length <= MAX_SID_LENGTH ? { sid } : {}),
    };
  }

  /**
   * In the callback's unit of work: holds a verified provider sign-in until its passkey step. Returns the secret the
   * plugin keeps in an httponly cookie (only its hash is stored).
   */
  async holdForPasskey(tx: Tx, input: { userId: string; issuer: string; action: PasskeyStep }): Promise<string> {
    const secret = randomBytes(32).toString('base64url');
    const now = this.clock.now();
    const login = Object.assign(new FederatedLogin(), {
      id: randomUUID(),
      secretHash: sha256Hex(secret),
      userId: input.userId,
      idpIssuer: input.issuer,
      action: input.action,
      createdAt: now,
      expiresAt: new Date(now.getTime() + this.relyingParty.settings.flowTtlSeconds * 1000),
    });
    await this.pendingLogins.insert(tx, login);
    return secret;
  }

  /** The sign-in waiting for its passkey step, left in place (the ceremony's options may be asked for again). */
  async pendingLogin(secret: string): Promise<FederatedLogin> {
    return this.usablePending(await this.uow.run((tx) => this.pendingLogins.find(tx, sha256Hex(secret))));
  }

  /** Takes the waiting sign-in out for good: whatever the passkey step's outcome, it cannot be finished twice. */
  async takePendingLogin(secret: string): Promise<FederatedLogin> {
    return this.usablePending(await this.uow.run((tx) => this.pendingLogins.take(tx, sha256Hex(secret))));
  }

  /**
   * In the sign-in's unit of work: remembers which person the provider session (sid) signed in, for as long as an
   * Airflow session started from this sign-in may last (its passkey step, then OIDC_SID_RETENTION_SECONDS).
   */
  async recordProviderSession(tx: Tx, input: { userId: string; issuer: string; sid: string; at: Date }): Promise<void> {
    const settings = this.relyingParty.settings;
    const lifetimeMs = (settings.flowTtlSeconds + settings.sidRetentionSeconds) * 1000;
    const session = Object.assign(new ProviderSession(), {
      id: randomUUID(),
      idpIssuer: input.issuer,
      sid: input.sid,
      userId: input.userId,
      createdAt: input.at,
      expiresAt: new Date(input.at.getTime() + lifetimeMs),
    });
    await this.providerSessions.record(tx, session);
  }

  /** A back-channel logout token that passed every signature and claim check (not yet its jti's single use). */
  verifyLogoutToken(token: string): Promise<VerifiedLogoutToken> {
    return this.relyingParty.verifyLogoutToken(token);
  }

  /**
   * In the logout's unit of work, so a failure leaves the token usable for the provider's retry: takes the token's
   * jti for good (a second delivery is refused: `logout_token_replayed`), then finds whose sessions end. By sub; by
   * sid through the sids recorded at sign-in; with both, they must name the same person (`logout_token_mismatch`).
   * Null when the token names nobody known here: a sid never seen, expired, or already logged out. The caller answers
   * that 200 like a logout that ended sessions, so the answer never says whether someone or some session exists here.
   * The person's recorded sids are forgotten: their sessions all end, and a later logout naming one of those old
   * provider sessions must not end a session they start afterwards.
   */
  async acceptLogoutToken(tx: Tx, token: VerifiedLogoutToken, now = this.clock.now()): Promise<LogoutTarget | null> {
    const used = Object.assign(new UsedLogoutToken(), {
      id: randomUUID(),
      jtiHash: sha256Hex(`${token.issuer}\n${token.jti}`),
      expiresAt: new Date(now.getTime() + USED_JTI_RETENTION_MS),
    });
    if (!(await this.usedLogoutTokens.claim(tx, used))) {
      throw new AppError(
        ErrorCode.InvalidRequest,
        'the logout token is not valid: it was already used',
        'logout_token_replayed',
      );
    }
    const bySid =
      token.sid === undefined ? null : await this.providerSessions.subjectOf(tx, token.issuer, token.sid, now);
    if (bySid !== null && token.subject !== undefined && bySid !== token.subject) {
      throw new AppError(
        ErrorCode.InvalidRequest,
        'the logout token is not valid: its sub and sid name different people',
        'logout_token_mismatch',
      );
    }
    const subject = bySid ?? token.subject;
    if (subject === undefined) return null;
    await this.providerSessions.forgetPerson(tx, token.issuer, subject);
    return { issuer: token.issuer, subject };
  }

  async purgeExpired(tx: Tx, now = this.clock.now()): Promise<number> {
    return (
      (await this.flows.purgeExpired(tx, now)) +
      (await this.pendingLogins.purgeExpired(tx, now)) +
      (await this.providerSessions.purgeExpired(tx, now)) +
      (await this.usedLogoutTokens.purgeExpired(tx, now))
    );
  }

  private usablePending(login: FederatedLogin | null): FederatedLogin {
    if (!login)
      throw new AppError(
        ErrorCode.InvalidChallenge,
        'this sign-in is unknown or was already finished; sign in again',
        'federated_login_unknown',
      );
    if (login.expiresAt.getTime() <= this.clock.now().getTime())
      throw new AppError(ErrorCode.InvalidChallenge, 'this sign-in expired; sign in again', 'federated_login_expired');
    return login;
  }

  /** The person as the ID token names them; the groups claim read once, here (see groupsFromProvider). */
  private identityFrom(claims: IdTokenClaims): { identity: FederatedIdentity; ignoredGroups: number } {
    const settings = this.relyingParty.settings;
    const username = claimString(claims, settings.usernameClaim);
    if (!username) {
      throw new AppError(
        ErrorCode.AuthenticationFailed,
        `the identity provider did not say who you are (no ${settings.usernameClaim} claim)`,
        'username_claim_missing',
      );
    }
    const { groups, ignored } = groupsFromProvider(claims[settings.groupsClaim]);
    // The display name is shown, never trusted: cut to what the column holds rather than refuse the person.
    const displayName = claimString(claims, 'name')?.slice(0, 256) ?? null;
    const identity = { issuer: claims.iss, subject: claims.sub, username, displayName, groups };
    return { identity, ignoredGroups: ignored };
  }
}
