import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { normalizeUsername, User } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { CliSignIn } from './cli-sign-in.entity';
import { CliSignInRepository } from './cli-sign-in.repository';

/** A code is pasted into a terminal within minutes of its creation, or not at all. */
export const CLI_CODE_TTL_SECONDS = 300;
/**
 * Every code starts with this, so Airflow's `/auth/token/cli` tells a person's code from a service account's secret
 * by its shape (both are authenticated by the service either way), and secret scanners can recognise a leaked one.
 */
export const CLI_CODE_PREFIX = 'afcli_';
/** 192 random bits: unguessable whatever the limits, so a single SHA-256 is enough to store it (as client secrets). */
const CODE_BYTES = 24;
export const CLI_CODE_PATTERN = new RegExp(`^${CLI_CODE_PREFIX}[A-Za-z0-9_-]{${Math.ceil((CODE_BYTES * 4) / 3)}}$`);
/** One message for every refused code, so a guesser learns nothing about names, codes or states. */
export const REFUSED_CODE_MESSAGE =
  'this username and one-time code do not sign in: the code may be wrong, used, expired or revoked. Create a new code on your Passkeys page';

export interface CreatedCliCode {
  id: string;
  /** Shown once; only its hash is stored. */
  code: string;
  expiresAt: Date;
}

/** The state of a row, from the owner's point of view. */
export type CliSignInState = 'pending' | 'signed_in' | 'expired' | 'revoked';

export function cliSignInState(row: CliSignIn, now: Date): CliSignInState {
  if (row.revokedAt) return 'revoked';
  if (row.usedAt) return 'signed_in';
  return row.expiresAt.getTime() >= now.getTime() ? 'pending' : 'expired';
}

/** Who redeemed a code, and with what (the person's current record and the confirming passkey). */
export interface RedeemedCliCode {
  signIn: CliSignIn;
  user: User;
  passkeyDeviceType: string;
}

function hashCode(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

/**
 * One-time codes that sign a person's command line in (airflowctl's `auth login`): created after a user-verified
 * passkey confirmation, shown once, stored hashed, single use, valid CLI_CODE_TTL_SECONDS, bound to their person,
 * listed and revocable until used; once used, the row is that command line's session, listed and revocable too.
 */
@Injectable()
export class CliCodesService {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly repository: CliSignInRepository,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** @param owner the person and the passkey of their fresh, user-verified confirmation (the caller checked it). */
  async create(context: AuditContext, owner: { userId: string; passkeyId: string }): Promise<CreatedCliCode> {
    const code = CLI_CODE_PREFIX + randomBytes(CODE_BYTES).toString('base64url');
    const now = this.clock.now();
    const row = Object.assign(new CliSignIn(), {
      id: randomUUID(),
      userId: owner.userId,
      passkeyId: owner.passkeyId,
      codeHash: hashCode(code),
      createdAt: now,
      expiresAt: new Date(now.getTime() + CLI_CODE_TTL_SECONDS * 1000),
      usedAt: null,
      revokedAt: null,
      lastUsedAt: null,
      createdFrom: context.clientIp?.slice(0, 64) ?? null,
      usedFrom: null,
      client: null,
    });
    await this.uow.run(async (tx) => {
      await this.repository.insert(tx, row);
      await this.audit.record(
        context,
        {
          type: 'cli_code.created',
          outcome: 'success',
          subjectType: 'user',
          subjectId: owner.userId,
          details: { cliSignInId: row.id, passkeyId: owner.passkeyId, expiresAt: row.expiresAt.toISOString() },
        },
        tx,
      );
    });
    return { id: row.id, code, expiresAt: row.expiresAt };
  }

  /**
   * The person's usable codes and signed-in command lines (not the expired or revoked ones).
   * @param inUse a command line Airflow is re-checking because it is in use: its last use moves to now first.
   */
  list(userId: string, inUse?: string): Promise<CliSignIn[]> {
    return this.uow.run(async (tx) => {
      const now = this.clock.now();
      if (inUse) await this.repository.seen(tx, userId, inUse, now);
      return this.repository.live(tx, userId, now);
    });
  }

  /** Revokes a pending code or ends a signed-in command line of the person; 404 for anyone else's. */
  async revoke(context: AuditContext, userId: string, id: string): Promise<CliSignIn> {
    return this.uow.run(async (tx) => {
      const row = await this.repository.revoke(tx, userId, id, this.clock.now());
      if (!row) throw new AppError(ErrorCode.NotFound, 'no such code or command line (or it was revoked already)');
      const type = row.usedAt ? 'cli_session.revoked' : 'cli_code.revoked';
      await this.audit.record(
        context,
        { type, outcome: 'success', subjectType: 'user', subjectId: userId, details: { cliSignInId: row.id } },
        tx,
      );
      return row;
    });
  }

  /**
   * Inside the sign-in's unit of work: uses up the code, checks its person and passkey as they are now, and records
   * `cli_code.used`. Throws `Unauthenticated` (reason for the audit trail, one message for the caller) otherwise.
   */
  async redeem(tx: Tx, context: AuditContext, username: string, code: string): Promise<RedeemedCliCode> {
    const name = normalizeUsername(username);
    const codeHash = hashCode(code);
    const now = this.clock.now();
    const use = {
      at: now,
      from: context.clientIp?.slice(0, 64) ?? null,
      client: context.userAgent?.slice(0, 255) ?? null,
    };
    const signIn = CLI_CODE_PATTERN.test(code) ? await this.repository.redeem(tx, name, codeHash, use) : null;
    if (!signIn)
      throw new AppError(
        ErrorCode.Unauthenticated,
        REFUSED_CODE_MESSAGE,
        await this.whyRefused(tx, name, codeHash, now),
      );
    const holder = await this.repository.holder(tx, signIn);
    if (!holder || holder.user.disabledAt)
      throw new AppError(ErrorCode.Unauthenticated, REFUSED_CODE_MESSAGE, 'cli_code_account_disabled');
    if (holder.passkey.revokedAt || holder.passkey.flaggedAt)
      throw new AppError(ErrorCode.Unauthenticated, REFUSED_CODE_MESSAGE, 'cli_code_passkey_revoked');
    await this.audit.record(
      { ...context, actorType: 'user', actorId: signIn.userId },
      {
        type: 'cli_code.used',
        outcome: 'success',
        subjectType: 'user',
        subjectId: signIn.userId,
        details: { cliSignInId: signIn.id },
      },
      tx,
    );
    return { signIn, user: holder.user, passkeyDeviceType: holder.passkey.deviceType };
  }

  private async whyRefused(tx: Tx, username: string, codeHash: string, now: Date): Promise<string> {
    const row = await this.repository.findCode(tx, username, codeHash);
    if (!row) return 'cli_code_unknown';
    const state = cliSignInState(row, now);
    return state === 'signed_in'
      ? 'cli_code_used'
      : state === 'pending'
        ? 'cli_code_account_disabled'
        : `cli_code_${state}`;
  }
}
