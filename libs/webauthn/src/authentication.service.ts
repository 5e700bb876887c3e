import { createHmac, hkdfSync } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  generateAuthenticationOptions,
  PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
  VerifiedAuthenticationResponse,
} from '@simplewebauthn/server';
import { Repository } from 'typeorm';
import { User } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { fromSql, PortableSql, SqlStatement } from '@app/persistence';
import { AuthenticationResponseJSON, VerifiedLogin } from './ceremony.types';
import { Challenge } from './challenge.entity';
import { ChallengeStoreService } from './challenge-store.service';
import { isBase64Url, readClientData } from './client-data';
import { Passkey } from './passkey.entity';

const fail = (message: string, reason: string) => new AppError(ErrorCode.AuthenticationFailed, message, reason);
const GENERIC = 'sign-in failed: this passkey was not accepted';

/*
 * The ceremony's queries, one statement each (see PortableSql for why not the repository API on this path).
 */
/** A user's active passkeys; one row with a NULL credential when the user has none, no row for an unknown name. */
const ALLOWED_CREDENTIALS =
  'SELECT u.id AS user_id, p.credential_id, p.transports FROM users u LEFT JOIN passkeys p ON p.user_id = u.id AND p.revoked_at IS NULL WHERE u.username = ? ORDER BY p.created_at';
/** The credential and its owner in one read. */
const CREDENTIAL_WITH_OWNER =
  'SELECT p.id, p.user_id, p.credential_id, p.public_key, p.counter, p.transports, p.device_type, p.backup_eligible, p.revoked_at, p.flagged_at, ' +
  'u.id AS owner_id, u.username, u.display_name, u.groups, u.webauthn_user_id, u.disabled_at FROM passkeys p LEFT JOIN users u ON u.id = p.user_id WHERE p.credential_id = ?';
/** Compare-and-set on the counter: if another sign-in with this passkey committed first, this one changes nothing. */
const ADVANCE_COUNTER = 'UPDATE passkeys SET counter = ?, last_used_at = ?, backed_up = ? WHERE id = ? AND counter = ?';
const RECORD_LOGIN = 'UPDATE users SET last_login_at = ? WHERE id = ?';

/** What the caller issues for a verified login (an access token); its `token.issued` event commits with the login. */
export interface IssuedForLogin<T> {
  value: T;
  audit: { context: AuditContext; type: string; details: Record<string, unknown> };
}

@Injectable()
export class AuthenticationService {
  /** Keys the decoy credential ids handed out for unknown usernames (derived, never stored). */
  private readonly decoyKey: Buffer;

  constructor(
    @InjectRepository(Passkey) private readonly passkeys: Repository<Passkey>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly challenges: ChallengeStoreService,
    private readonly audit: AuditService,
  ) {
    this.decoyKey = Buffer.from(hkdfSync('sha256', config.keyEncryptionKey, 'airflow-webauthn', 'decoy-credential-ids', 32));
  }

  private get sql(): PortableSql {
    return PortableSql.of(this.passkeys.manager.connection);
  }

  /**
   * With a username: allowCredentials lists that user's passkeys. An unknown username gets a stable decoy
   * credential id instead of an error, so the response does not reveal which usernames exist.
   * Without one: a discoverable-credential ceremony (empty allowCredentials).
   */
  async options(username?: string): Promise<PublicKeyCredentialRequestOptionsJSON> {
    let allow: Pick<Passkey, 'credentialId' | 'transports'>[] = [];
    let userId: string | null = null;
    if (username !== undefined) {
      const { rows } = await this.sql.query(ALLOWED_CREDENTIALS, [username.trim().toLowerCase()]);
      const owned = rows.filter((r) => r.credential_id !== null && r.credential_id !== undefined);
      userId = owned.length ? (owned[0]!.user_id as string) : null;
      allow = owned.length
        ? owned.map((r) => ({ credentialId: r.credential_id as string, transports: fromSql.json<string[]>(r.transports) }))
        : [{ credentialId: this.decoyCredentialId(username), transports: ['internal', 'hybrid'] }];
    }
    const options = await generateAuthenticationOptions({
      rpID: this.config.webauthn.rpId,
      allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
      userVerification: this.config.webauthn.userVerification,
      timeout: this.config.webauthn.challengeTtlSeconds * 1000,
    });
    await this.challenges.save({ challenge: options.challenge, ceremony: 'authentication', userId, allowCredentialIds: allow.map((p) => p.credentialId) });
    return options;
  }

  /**
   * WebAuthn §7.2, with the steps SimpleWebAuthn leaves to the relying party done here. Audits every outcome.
   * `issue` (optional) runs once every check has passed, before anything is written: what it returns (the access
   * token) is handed out only if the login commits, and its audit event commits in the same transaction.
   */
  async verify<T = never>(
    context: AuditContext,
    response: AuthenticationResponseJSON,
    issue?: (login: VerifiedLogin) => Promise<IssuedForLogin<T>>,
  ): Promise<{ login: VerifiedLogin; issued?: T }> {
    let subject: { userId?: string; passkeyId?: string } = {};
    try {
      return await this.verifyOrThrow(context, response, (s) => (subject = s), issue);
    } catch (error) {
      if (error instanceof AppError) {
        await this.audit.record(context, {
          type: 'login',
          outcome: 'failure',
          reason: error.reason,
          subjectType: subject.userId ? 'user' : null,
          subjectId: subject.userId ?? null,
          details: { passkeyId: subject.passkeyId, credentialId: typeof response?.id === 'string' ? response.id.slice(0, 64) : undefined },
        });
      }
      throw error;
    }
  }

  private async verifyOrThrow<T>(
    context: AuditContext,
    response: AuthenticationResponseJSON,
    identify: (subject: { userId?: string; passkeyId?: string }) => void,
    issue?: (login: VerifiedLogin) => Promise<IssuedForLogin<T>>,
  ): Promise<{ login: VerifiedLogin; issued?: T }> {
    // §7.2 step 5/6 preconditions: a well-formed credential id that is the same in id and rawId.
    if (!isBase64Url(response?.id, 1400) || response.id !== response.rawId) {
      throw new AppError(ErrorCode.InvalidRequest, 'response.id and response.rawId must be the same base64url credential id', 'malformed_response');
    }
    const clientData = readClientData(response.response?.clientDataJSON);
    const pending = await this.challenges.consume(clientData.challenge, 'authentication');
    if (clientData.crossOrigin) throw fail('sign-in failed: the passkey was used from inside another site\'s frame', 'cross_origin');

    // Step 5: when allowCredentials was sent, the credential used must be one of them.
    if (pending.allowCredentialIds.length > 0 && !pending.allowCredentialIds.includes(response.id)) {
      throw fail(GENERIC, 'credential_not_allowed');
    }
    const { rows } = await this.sql.query(CREDENTIAL_WITH_OWNER, [response.id]);
    if (!rows[0]) throw fail('sign-in failed: this passkey is not registered here', 'unknown_credential');
    const { passkey, user } = toPasskeyAndOwner(rows[0]);
    identify({ userId: passkey.userId, passkeyId: passkey.id });
    if (!user) throw fail(GENERIC, 'unknown_user');
    this.checkUserHandle(pending, response, user);

    const verification = await this.verifySignature(pending, response, passkey);
    const info = verification.authenticationInfo;

    // Only now, with the signature verified, do state checks whose answers are worth telling the holder.
    if (passkey.revokedAt) throw fail('sign-in failed: this passkey was revoked; ask an administrator for a new invite', 'passkey_revoked');
    if (passkey.flaggedAt) throw fail('sign-in failed: this passkey was blocked after a security check; ask an administrator', 'passkey_flagged');
    if (user.disabledAt) throw fail('sign-in failed: this account is disabled', 'user_disabled');
    if ((info.credentialDeviceType === 'multiDevice') !== passkey.backupEligible) {
      throw fail(GENERIC, 'backup_eligibility_changed');
    }
    if ((info.newCounter > 0 || passkey.counter > 0) && info.newCounter <= passkey.counter) {
      await this.flag(passkey, 'counter_regression');
      throw fail('sign-in failed: this passkey looks cloned and was blocked; ask an administrator', 'counter_regression');
    }

    const now = new Date();
    const login: VerifiedLogin = {
      userId: user.id,
      username: user.username,
      displayName: user.displayName,
      groups: user.groups,
      passkeyId: passkey.id,
      amr: [passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk', 'user', ...(info.userVerified ? ['mfa'] : [])],
      authTime: now,
    };
    const issued = issue ? await issue(login) : undefined;

    // One transaction: the counter compare-and-set, the user's last login, the login event and the token event.
    const statements: SqlStatement[] = [
      { sql: ADVANCE_COUNTER, params: [info.newCounter, now.getTime(), info.credentialBackedUp, passkey.id, passkey.counter], expectAffected: 1, onMismatch: () => fail(GENERIC, 'concurrent_use') },
      { sql: RECORD_LOGIN, params: [now.getTime(), user.id] },
      this.audit.insertStatement(context, { type: 'login', outcome: 'success', subjectType: 'user', subjectId: user.id, details: { passkeyId: passkey.id, username: user.username, userVerified: info.userVerified } }, now),
    ];
    if (issued) {
      statements.push(this.audit.insertStatement(issued.audit.context, { type: issued.audit.type, outcome: 'success', subjectType: 'user', subjectId: user.id, details: issued.audit.details }, now));
    }
    await this.sql.transaction(statements);
    return { login, issued: issued?.value };
  }

  /** §7.2 step 6: the user handle, when present, must be the credential owner's; a discoverable login must send it. */
  private checkUserHandle(pending: Challenge, response: AuthenticationResponseJSON, user: User): void {
    const handle = response.response?.userHandle;
    if (handle !== undefined && handle !== null && handle !== '') {
      if (handle !== user.webauthnUserId) throw fail(GENERIC, 'user_handle_mismatch');
    } else if (pending.allowCredentialIds.length === 0) {
      throw fail(GENERIC, 'user_handle_missing');
    }
    if (pending.userId && pending.userId !== user.id) throw fail(GENERIC, 'credential_of_other_user');
  }

  private async verifySignature(pending: Challenge, response: AuthenticationResponseJSON, passkey: Passkey): Promise<VerifiedAuthenticationResponse> {
    let verification: VerifiedAuthenticationResponse;
    try {
      verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: this.config.webauthn.origins,
        expectedRPID: this.config.webauthn.rpId,
        // The counter rule is applied by us after the signature is known to be good (see verifyOrThrow), so a
        // forged assertion cannot get a genuine passkey flagged.
        credential: { id: passkey.credentialId, publicKey: Buffer.from(passkey.publicKey, 'base64url'), counter: 0, transports: passkey.transports as never },
        requireUserVerification: this.config.webauthn.userVerification === 'required',
      });
    } catch (error) {
      throw fail(`sign-in failed: ${(error as Error).message}`, 'assertion_invalid');
    }
    if (!verification.verified) throw fail(GENERIC, 'bad_signature');
    return verification;
  }

  private async flag(passkey: Passkey, reason: string): Promise<void> {
    await this.passkeys.update({ id: passkey.id }, { flaggedAt: new Date(), flagReason: reason });
  }

  private decoyCredentialId(username: string): string {
    return createHmac('sha256', this.decoyKey).update(username.trim().toLowerCase()).digest().subarray(0, 16).toString('base64url');
  }
}

/** The row of CREDENTIAL_WITH_OWNER as a Passkey (only the columns the ceremony reads) and its owner, if any. */
function toPasskeyAndOwner(row: Record<string, unknown>): { passkey: Passkey; user: User | null } {
  const passkey = Object.assign(new Passkey(), {
    id: row.id as string,
    userId: row.user_id as string,
    credentialId: row.credential_id as string,
    publicKey: row.public_key as string,
    counter: fromSql.number(row.counter),
    transports: fromSql.json<string[]>(row.transports),
    deviceType: row.device_type as Passkey['deviceType'],
    backupEligible: fromSql.boolean(row.backup_eligible),
    revokedAt: fromSql.instant(row.revoked_at),
    flaggedAt: fromSql.instant(row.flagged_at),
  });
  const user =
    row.owner_id === null || row.owner_id === undefined
      ? null
      : Object.assign(new User(), {
          id: row.owner_id as string,
          username: row.username as string,
          displayName: row.display_name as string,
          groups: fromSql.json<string[]>(row.groups),
          webauthnUserId: row.webauthn_user_id as string,
          disabledAt: fromSql.instant(row.disabled_at),
        });
  return { passkey, user };
}
