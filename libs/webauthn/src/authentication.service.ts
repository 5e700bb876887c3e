import { createHmac, hkdfSync } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import {
  generateAuthenticationOptions,
  PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
  VerifiedAuthenticationResponse,
} from '@simplewebauthn/server';
import { IsNull, Repository } from 'typeorm';
import { User, UsersService } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { AuthenticationResponseJSON, VerifiedLogin } from './ceremony.types';
import { Challenge } from './challenge.entity';
import { ChallengeStoreService } from './challenge-store.service';
import { isBase64Url, readClientData } from './client-data';
import { Passkey } from './passkey.entity';

const fail = (message: string, reason: string) => new AppError(ErrorCode.AuthenticationFailed, message, reason);
const GENERIC = 'sign-in failed: this passkey was not accepted';

@Injectable()
export class AuthenticationService {
  /** Keys the decoy credential ids handed out for unknown usernames (derived, never stored). */
  private readonly decoyKey: Buffer;

  constructor(
    @InjectRepository(Passkey) private readonly passkeys: Repository<Passkey>,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly challenges: ChallengeStoreService,
    private readonly users: UsersService,
    private readonly audit: AuditService,
  ) {
    this.decoyKey = Buffer.from(hkdfSync('sha256', config.keyEncryptionKey, 'airflow-webauthn', 'decoy-credential-ids', 32));
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
      const user = await this.users.findByUsername(username);
      const owned = user ? await this.passkeys.findBy({ userId: user.id, revokedAt: IsNull() }) : [];
      userId = owned.length ? user!.id : null;
      allow = owned.length ? owned : [{ credentialId: this.decoyCredentialId(username), transports: ['internal', 'hybrid'] }];
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

  /** WebAuthn §7.2, with the steps SimpleWebAuthn leaves to the relying party done here. Audits every outcome. */
  async verify(context: AuditContext, response: AuthenticationResponseJSON): Promise<VerifiedLogin> {
    let subject: { userId?: string; passkeyId?: string } = {};
    try {
      const login = await this.verifyOrThrow(context, response, (s) => (subject = s));
      return login;
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

  private async verifyOrThrow(
    context: AuditContext,
    response: AuthenticationResponseJSON,
    identify: (subject: { userId?: string; passkeyId?: string }) => void,
  ): Promise<VerifiedLogin> {
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
    const passkey = await this.passkeys.findOneBy({ credentialId: response.id });
    if (!passkey) throw fail('sign-in failed: this passkey is not registered here', 'unknown_credential');
    identify({ userId: passkey.userId, passkeyId: passkey.id });
    const user = await this.users.findById(passkey.userId);
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
    await this.passkeys.manager.transaction(async (m) => {
      // Compare-and-set on the counter: if another login with this passkey committed first, this one loses.
      const updated = await m
        .getRepository(Passkey)
        .update({ id: passkey.id, counter: passkey.counter }, { counter: info.newCounter, lastUsedAt: now, backedUp: info.credentialBackedUp });
      if (updated.affected !== 1) throw fail(GENERIC, 'concurrent_use');
      await this.users.recordLogin(m, user.id, now);
      await this.audit.record(context, { type: 'login', outcome: 'success', subjectType: 'user', subjectId: user.id, details: { passkeyId: passkey.id, username: user.username, userVerified: info.userVerified } }, m);
    });

    return {
      userId: user.id,
      username: user.username,
      displayName: user.displayName,
      groups: user.groups,
      passkeyId: passkey.id,
      amr: [passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk', 'user', ...(info.userVerified ? ['mfa'] : [])],
      authTime: now,
    };
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
