import { createHash, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { User } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { isUniqueViolation, Tx, UnitOfWork } from '@app/persistence';
import { CliSignIn } from './cli-sign-in.entity';
import { CliSignInRepository } from './cli-sign-in.repository';
import { DeviceAuthorization, DeviceClientKind } from './device-authorization.entity';
import { DeviceAuthorizationRepository } from './device-authorization.repository';

/** RFC 8628 §6.1: short-lived; ten minutes to walk to a browser, sign in and approve. */
export const DEVICE_CODE_TTL_SECONDS = 600;
/** RFC 8628 §3.2's default polling interval. */
export const DEVICE_POLL_INTERVAL_SECONDS = 5;
/** RFC 8628 §6.1's base-20 set: consonants only (no words spelt by chance), no digits to mistake for letters. */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const USER_CODE_LENGTH = 8;
/** 256 random bits: unguessable whatever the limits, so one SHA-256 is enough to store it. */
const DEVICE_CODE_BYTES = 32;

export type DeviceRequestState = 'pending' | 'approved' | 'denied' | 'expired';

export function deviceRequestState(row: DeviceAuthorization, now: Date): DeviceRequestState {
  if (row.deniedAt) return 'denied';
  if (row.approvedAt) return 'approved';
  return row.expiresAt.getTime() >= now.getTime() ? 'pending' : 'expired';
}

/** `BCDFGHJK` → `BCDF-GHJK`, as people read and type it. */
export function displayUserCode(userCode: string): string {
  return `${userCode.slice(0, 4)}-${userCode.slice(4)}`;
}

/** A typed user code as stored (capitals, no dash or spaces), or null when it cannot be one. */
export function normalizeUserCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  return code.length === USER_CODE_LENGTH && [...code].every((c) => USER_CODE_ALPHABET.includes(c)) ? code : null;
}

/** The client asking, as its authentication established it. */
export interface DeviceClient {
  clientId: string;
  clientName: string;
  kind: DeviceClientKind;
}

/** RFC 8628 §3.2's answer, less what the controller adds. */
export interface StartedDeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresIn: number;
  interval: number;
}

/** RFC 8628 §3.5's answers to a poll that gets no token. */
export type DevicePollError =
  'authorization_pending' | 'slow_down' | 'expired_token' | 'access_denied' | 'invalid_grant';

export type DevicePoll = { error: DevicePollError; description: string } | { approved: DeviceAuthorization };

/** The command line an exchanged device code signed in, with the approving person and passkey as they are now. */
export interface DeviceSignIn {
  signIn: CliSignIn;
  user: User;
  passkeyDeviceType: string;
}

function hashCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

function newUserCode(): string {
  return Array.from({ length: USER_CODE_LENGTH }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join(
    '',
  );
}

/** Airflow's `/auth/device` page: next to its enrollment page (ENROLLMENT_URL, `<Airflow>/auth/enroll` by default). */
export function verificationUri(enrollmentUrl: string): string {
  return new URL('device', enrollmentUrl).toString();
}

const UNKNOWN_REQUEST = 'no sign-in request has this code: check the code your command line shows';

/**
 * Device authorization (RFC 8628) for command lines and agents: a client asks (`device.requested`), a person who
 * started it approves it with a fresh passkey confirmation (`device.approved`) or denies it (`device.denied`), and
 * the client polls until then. The exchange of an approved device code signs the command line in as that person: a
 * `cli_sign_ins` row, the same command line a one-time CLI code signs in (listed, re-checked and revocable the same
 * way), recorded with `device.token_issued`.
 */
@Injectable()
export class DeviceAuthorizationsService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly requests: DeviceAuthorizationRepository,
    private readonly signIns: CliSignInRepository,
    private readonly audit: AuditService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** @param client the authenticated client (the caller checked it); @param scope what it asks for (already allowed). */
  async start(
    context: AuditContext,
    client: DeviceClient,
    scope: readonly string[],
  ): Promise<StartedDeviceAuthorization> {
    const deviceCode = randomBytes(DEVICE_CODE_BYTES).toString('base64url');
    const now = this.clock.now();
    const row = Object.assign(new DeviceAuthorization(), {
      id: randomUUID(),
      deviceCodeHash: hashCode(deviceCode),
      clientId: client.clientId,
      clientName: client.clientName.slice(0, 128),
      clientKind: client.kind,
      scope: scope.length ? scope.join(' ') : null,
      requestedFrom: context.clientIp?.slice(0, 64) ?? null,
      userAgent: context.userAgent?.slice(0, 255) ?? null,
      requestedAt: now,
      expiresAt: new Date(now.getTime() + DEVICE_CODE_TTL_SECONDS * 1000),
      intervalSeconds: DEVICE_POLL_INTERVAL_SECONDS,
      lastPolledAt: null,
      userId: null,
      passkeyId: null,
      approvedAt: null,
      days: null,
      deniedAt: null,
      decidedFrom: null,
      exchangedAt: null,
      cliSignInId: null,
    });
    // 20^8 user codes: a collision with a live one is rare, and a fresh draw settles it.
    for (let attempt = 1; ; attempt++) {
      row.userCode = newUserCode();
      try {
        await this.uow.run(async (tx) => {
          await this.requests.insert(tx, row);
          await this.audit.record(
            context,
            {
              type: 'device.requested',
              outcome: 'success',
              details: {
                deviceAuthorizationId: row.id,
                clientId: client.clientId,
                scope: row.scope,
                userAgent: row.userAgent,
                expiresAt: row.expiresAt.toISOString(),
              },
            },
            tx,
          );
        });
        break;
      } catch (error) {
        if (!isUniqueViolation(error) || attempt >= 3) throw error;
      }
    }
    const uri = verificationUri(this.config.enrollmentUrl);
    const shown = displayUserCode(row.userCode);
    return {
      deviceCode,
      userCode: shown,
      verificationUri: uri,
      verificationUriComplete: `${uri}?user_code=${shown}`,
      expiresIn: DEVICE_CODE_TTL_SECONDS,
      interval: DEVICE_POLL_INTERVAL_SECONDS,
    };
  }

  /** The request a person typed the code of, whatever its state; 404 for a code that names none. */
  async find(typedUserCode: string): Promise<{ request: DeviceAuthorization; state: DeviceRequestState }> {
    const userCode = normalizeUserCode(typedUserCode);
    const request = userCode ? await this.uow.run((tx) => this.requests.byUserCode(tx, userCode)) : null;
    if (!request) throw new AppError(ErrorCode.NotFound, UNKNOWN_REQUEST, 'device_user_code_unknown');
    return { request, state: deviceRequestState(request, this.clock.now()) };
  }

  /**
   * A person's decision on a pending request, taken once: approve (with the passkey of their fresh, user-verified
   * confirmation, which the caller checked) or deny. 404 for an unknown code, 409 when it is no longer pending.
   */
  async decide(
    context: AuditContext,
    typedUserCode: string,
    decision: 'approve' | 'deny',
    person: { userId: string; passkeyId?: string; days?: number },
  ): Promise<{ request: DeviceAuthorization; state: DeviceRequestState }> {
    const userCode = normalizeUserCode(typedUserCode);
    if (!userCode) throw new AppError(ErrorCode.NotFound, UNKNOWN_REQUEST, 'device_user_code_unknown');
    return this.uow.run(async (tx) => {
      const now = this.clock.now();
      const from = context.clientIp?.slice(0, 64) ?? null;
      const found = await this.requests.byUserCode(tx, userCode);
      if (!found) throw new AppError(ErrorCode.NotFound, UNKNOWN_REQUEST, 'device_user_code_unknown');
      const days = decision === 'approve' ? this.approvedDays(found, person.days) : undefined;
      const request = await this.requests.decide(tx, userCode, decision, { at: now, from, ...person, days });
      if (!request)
        throw new AppError(
          ErrorCode.Conflict,
          `this sign-in request is ${deviceRequestState(found, now)}: a request is approved or denied once; start a new one on the command line`,
          'device_request_decided',
        );
      await this.audit.record(
        context,
        {
          type: decision === 'approve' ? 'device.approved' : 'device.denied',
          outcome: 'success',
          subjectType: 'user',
          subjectId: person.userId,
          details: {
            deviceAuthorizationId: request.id,
            clientId: request.clientId,
            scope: request.scope,
            requestedFrom: request.requestedFrom,
            ...(person.passkeyId ? { passkeyId: person.passkeyId } : {}),
            ...(request.days !== null ? { days: request.days } : {}),
          },
        },
        tx,
      );
      return { request, state: deviceRequestState(request, now) };
    });
  }

  /**
   * The days an agent's request is approved for: the person's choice, else DELEGATION_MAX_DAYS; more than that is
   * refused, not shortened, so the person never approves a duration the page did not show. A command line's request
   * has no duration (it signs in as the person), so a choice of days for one is refused too.
   */
  private approvedDays(request: DeviceAuthorization, days: number | undefined): number | undefined {
    const maxDays = this.config.delegationMaxDays;
    if (request.clientKind !== 'agent') {
      if (days !== undefined)
        throw new AppError(ErrorCode.InvalidRequest, 'days applies to an agent only: a command line signs in as you');
      return undefined;
    }
    const chosen = days ?? maxDays;
    if (!Number.isInteger(chosen) || chosen < 1 || chosen > maxDays)
      throw new AppError(ErrorCode.InvalidRequest, `days must be a whole number from 1 to ${maxDays}`, 'invalid_days');
    return chosen;
  }

  /**
   * A client's poll with its device code, inside the grant's unit of work (RFC 8628 §3.4–3.5). Every answer but
   * `approved` is final for this poll and commits (the poll's time and a slowed interval count for the next one).
   * @param clientId the authenticated client: another client's device code is `invalid_grant`, as an unknown one.
   */
  async poll(tx: Tx, clientId: string, deviceCode: string): Promise<DevicePoll> {
    const now = this.clock.now();
    const request = await this.requests.byDeviceCode(tx, hashCode(deviceCode));
    if (!request || request.clientId !== clientId || request.exchangedAt)
      return {
        error: 'invalid_grant',
        description: 'this device code is unknown, used, or was issued to another client',
      };
    if (request.deniedAt) return { error: 'access_denied', description: 'the person denied this sign-in request' };
    if (request.expiresAt.getTime() < now.getTime())
      return { error: 'expired_token', description: 'this device code expired: start a new sign-in' };
    const soon =
      request.lastPolledAt && now.getTime() - request.lastPolledAt.getTime() < request.intervalSeconds * 1000;
    if (soon || !(await this.requests.recordPoll(tx, request, now))) {
      await this.requests.slowDown(tx, request.id, now);
      return {
        error: 'slow_down',
        description: `polled too soon: wait at least ${request.intervalSeconds + 5} seconds between polls`,
      };
    }
    if (!request.approvedAt)
      return { error: 'authorization_pending', description: 'the person has not approved this sign-in request yet' };
    return { approved: request };
  }

  /**
   * Inside the grant's unit of work: exchanges an agent's approved request once. It signs no command line in: the
   * grant turns the approval into a delegation (libs/delegations), which the agent's tokens name.
   */
  async exchangeForAgent(tx: Tx, approved: DeviceAuthorization): Promise<void> {
    if (!(await this.requests.exchange(tx, approved.id, this.clock.now(), null)))
      throw new AppError(ErrorCode.Unauthenticated, 'this device code was used already', 'device_code_used');
  }

  /**
   * Inside the grant's unit of work: exchanges an approved request once, signing the command line in as the person
   * who approved it (as they and their passkey are now), and records `device.token_issued`. Throws
   * `Unauthenticated` when the exchange is taken already or the person or passkey can no longer sign in.
   */
  async exchange(tx: Tx, context: AuditContext, approved: DeviceAuthorization): Promise<DeviceSignIn> {
    const now = this.clock.now();
    const signIn = Object.assign(new CliSignIn(), {
      id: randomUUID(),
      userId: approved.userId!,
      passkeyId: approved.passkeyId!,
      // Unique like a CLI code's hash, and never a CLI code's: a device code has no `afcli_` prefix.
      codeHash: approved.deviceCodeHash,
      // When the passkey confirmed the person: the approval.
      createdAt: approved.approvedAt!,
      expiresAt: approved.expiresAt,
      usedAt: now,
      revokedAt: null,
      lastUsedAt: now,
      createdFrom: approved.decidedFrom,
      usedFrom: context.clientIp?.slice(0, 64) ?? null,
      client: [approved.clientId, approved.userAgent].filter(Boolean).join(' ').slice(0, 255),
    });
    if (!(await this.requests.exchange(tx, approved.id, now, signIn.id)))
      throw new AppError(ErrorCode.Unauthenticated, 'this device code was used already', 'device_code_used');
    const holder = await this.signIns.holder(tx, signIn);
    if (!holder || holder.user.disabledAt)
      throw new AppError(ErrorCode.Unauthenticated, 'the approving account is disabled', 'device_account_disabled');
    if (holder.passkey.revokedAt || holder.passkey.flaggedAt)
      throw new AppError(ErrorCode.Unauthenticated, 'the approving passkey was revoked', 'device_passkey_revoked');
    await this.signIns.insert(tx, signIn);
    await this.audit.record(
      { ...context, actorType: 'user', actorId: signIn.userId },
      {
        type: 'device.token_issued',
        outcome: 'success',
        subjectType: 'user',
        subjectId: signIn.userId,
        details: { deviceAuthorizationId: approved.id, clientId: approved.clientId, cliSignInId: signIn.id },
      },
      tx,
    );
    return { signIn, user: holder.user, passkeyDeviceType: holder.passkey.deviceType };
  }
}
