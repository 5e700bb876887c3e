import { hkdfSync } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  generateAuthenticationOptions,
  PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
  VerifiedAuthenticationResponse,
} from '@simplewebauthn/server';
import { User } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { AuthenticationResponseJSON, VerifiedLogin } from './ceremony.types';
import { Challenge } from './challenge.entity';
import { DecoyCredentials } from './decoy-credentials';
import { ChallengeStoreService } from './challenge-store.service';
import { isBase64Url, readClientData } from './client-data';
import { Passkey } from './passkey.entity';
import { PasskeyRepository } from './passkey.repository';
import { AuthenticatorPolicyService } from './policy';

/** An administrator whose only passkey is blocked cannot sign in to unblock it: the way out is the service's CLI. */
const BREAK_GLASS =
  " (an administrator locked out this way unblocks it on the auth service's host: npm run -s cli -- passkeys list <username>, then passkeys unflag <id>)";

const GENERIC = 'sign-in failed: this passkey was not accepted';

/** A refused assertion, with who it was about as far as known (for the caller's audit record). */
export class AssertionRefused extends AppError {
  constructor(
    message: string,
    reason: string,
    readonly subject: { userId?: string; passkeyId?: string } = {},
    code: ErrorCode = ErrorCode.AuthenticationFailed,
  ) {
    super(code, message, reason);
  }
}

/** An assertion that passed every check; `record` makes it count (counter, last login, login event). */
export interface VerifiedAssertion {
  login: VerifiedLogin;
  passkey: Passkey;
  newCounter: number;
  backedUp: boolean;
  userVerified: boolean;
}

/** WebAuthn §7.2 for the sign-in use case: options, then verify (reads and checks), then record (writes). */
@Injectable()
export class AuthenticationService {
  /** The options handed out for unknown usernames (derived, never stored): see decoy-credentials.ts. */
  private readonly decoys: DecoyCredentials;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly uow: UnitOfWork,
    private readonly passkeys: PasskeyRepository,
    private readonly challenges: ChallengeStoreService,
    private readonly audit: AuditService,
    private readonly policy: AuthenticatorPolicyService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.decoys = new DecoyCredentials(
      Buffer.from(hkdfSync('sha256', config.keyEncryptionKey, 'airflow-webauthn', 'decoy-credential-ids', 32)),
    );
  }

  /**
   * With a username: allowCredentials lists that user's passkeys. An unknown username (or one without passkeys)
   * gets stable decoy credentials shaped like a real person's instead of an error, so the response does not reveal
   * which usernames exist. Both paths make the same reads, so they take the same time.
   * Without one: a discoverable-credential ceremony (empty allowCredentials).
   * `requireUserVerification` (a step-up) asks for UV and stores that demand with the challenge, so the assertion is
   * refused without UV even when WEBAUTHN_USER_VERIFICATION is `preferred`. It can only make a ceremony stricter.
   */
  async options(username?: string, requireUserVerification = false): Promise<PublicKeyCredentialRequestOptionsJSON> {
    // One unit: read the user's passkeys, store the challenge. Generating the options in between is CPU work only.
    return this.uow.run(async (tx) => {
      let allow: Pick<Passkey, 'credentialId' | 'transports'>[] = [];
      let userId: string | null = null;
      if (username !== undefined) {
        const name = username.trim().toLowerCase();
        const known = await this.passkeys.allowedCredentials(tx, name);
        const now = this.clock.now().getTime();
        if (this.decoys.stale(now)) this.decoys.refresh(await this.passkeys.enrolledCredentials(tx), now);
        userId = known?.credentials.length ? known.userId : null;
        allow = known?.credentials.length ? known.credentials : this.decoys.for(name);
      }
      const options = await generateAuthenticationOptions({
        rpID: this.config.webauthn.rpId,
        allowCredentials: allow.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
        userVerification: requireUserVerification ? 'required' : this.config.webauthn.userVerification,
        timeout: this.config.webauthn.challengeTtlSeconds * 1000,
      });
      await this.challenges.store(tx, {
        challenge: options.challenge,
        ceremony: 'authentication',
        userId,
        allowCredentialIds: allow.map((p) => p.credentialId),
        requireUserVerification,
      });
      return options;
    });
  }

  /**
   * WebAuthn §7.2, with the steps SimpleWebAuthn leaves to the relying party done here. Consumes the challenge and
   * writes nothing else, except flagging a passkey that shows strong evidence of cloning (see checkCounter).
   * Throws AssertionRefused (or AppError for malformed input / an unknown challenge).
   */
  async verify(context: AuditContext, response: AuthenticationResponseJSON): Promise<VerifiedAssertion> {
    // §7.2 step 5/6 preconditions: a well-formed credential id that is the same in id and rawId.
    if (!isBase64Url(response?.id, 1400) || response.id !== response.rawId) {
      throw new AppError(
        ErrorCode.InvalidRequest,
        'response.id and response.rawId must be the same base64url credential id',
        'malformed_response',
      );
    }
    const clientData = readClientData(response.response?.clientDataJSON);
    // One unit: take the challenge (consumed whatever happens next) and read the credential with its owner.
    const [taken, found] = await this.uow.run(async (tx) => {
      const challenge = await this.challenges.take(tx, clientData.challenge, 'authentication');
      return [challenge, challenge ? await this.passkeys.findWithOwner(tx, response.id) : null] as const;
    });
    const pending = this.challenges.usable(taken);
    if (clientData.crossOrigin)
      throw new AssertionRefused(
        "sign-in failed: the passkey was used from inside another site's frame",
        'cross_origin',
      );

    // Step 5: when allowCredentials was sent, the credential used must be one of them.
    if (pending.allowCredentialIds.length > 0 && !pending.allowCredentialIds.includes(response.id)) {
      throw new AssertionRefused(GENERIC, 'credential_not_allowed');
    }
    if (!found) throw new AssertionRefused('sign-in failed: this passkey is not registered here', 'unknown_credential');
    const { passkey, owner: user } = found;
    const subject = { userId: passkey.userId, passkeyId: passkey.id };
    const refuse = (message: string, reason: string) => new AssertionRefused(message, reason, subject);
    if (!user) throw refuse(GENERIC, 'unknown_user');
    this.checkUserHandle(pending, response, user, refuse);

    const verification = await this.verifySignature(pending, response, passkey, refuse);
    const info = verification.authenticationInfo;

    // Only now, with the signature verified, do state checks whose answers are worth telling the holder.
    // Told with their own codes, so the login page names the cause instead of blaming the passkey in general.
    const refuseAs = (code: ErrorCode, message: string, reason: string) =>
      new AssertionRefused(message, reason, subject, code);
    if (passkey.revokedAt)
      throw refuseAs(
        ErrorCode.PasskeyRevoked,
        'sign-in failed: this passkey was revoked; ask an administrator for a new invite',
        'passkey_revoked',
      );
    if (passkey.flaggedAt)
      throw refuseAs(
        ErrorCode.PasskeyFlagged,
        `sign-in failed: this passkey was blocked after a security check; ask an administrator to review it${BREAK_GLASS}`,
        'passkey_flagged',
      );
    if (user.disabledAt)
      throw refuseAs(
        ErrorCode.AccountDisabled,
        'sign-in failed: this account is disabled; ask an administrator',
        'user_disabled',
      );
    if ((info.credentialDeviceType === 'multiDevice') !== passkey.backupEligible)
      throw refuse(GENERIC, 'backup_eligibility_changed');
    const verdict = await this.policy.atSignIn(context, passkey, user.groups);
    if (verdict.kind === 'compromised')
      throw refuseAs(
        ErrorCode.PasskeyFlagged,
        `sign-in failed: ${verdict.violation.message}; this passkey was blocked${BREAK_GLASS}`,
        'authenticator_compromised',
      );
    if (verdict.kind === 'refused')
      throw refuseAs(
        ErrorCode.AuthenticatorPolicy,
        `sign-in failed: this passkey is no longer allowed for your role since ${verdict.graceEnds.toISOString().slice(0, 10)} (${verdict.violation.message}); ask an administrator for a re-enrollment invite`,
        'authenticator_policy',
      );
    if (this.policy.requirement(user.groups).userVerification && !info.userVerified)
      throw refuse(
        'sign-in failed: your role needs a passkey that verifies you (PIN or biometrics)',
        'user_verification_required',
      );
    await this.checkCounter(context, pending, passkey, info.newCounter, refuse);

    return {
      login: {
        userId: user.id,
        username: user.username,
        displayName: user.displayName,
        groups: user.groups,
        passkeyId: passkey.id,
        amr: [passkey.deviceType === 'singleDevice' ? 'hwk' : 'swk', 'user', ...(info.userVerified ? ['mfa'] : [])],
        authTime: this.clock.now(),
        sessionGeneration: user.sessionGeneration,
      },
      passkey,
      newCounter: info.newCounter,
      backedUp: info.credentialBackedUp,
      userVerified: info.userVerified,
    };
  }

  /**
   * Inside the sign-in's unit of work: the counter compare-and-set (the sign-in itself is then recorded by the
   * service's SignedInRecorder). If another sign-in with this passkey committed since it was read, or it was revoked
   * or flagged meanwhile, nothing is written and the sign-in is refused (never flagged: see checkCounter).
   * `_context` is kept so that callers (and the tests driving the race) keep one signature.
   */
  async record(tx: Tx, _context: AuditContext, assertion: VerifiedAssertion): Promise<void> {
    const { login, passkey } = assertion;
    const at = login.authTime;
    const advanced = await this.passkeys.advanceCounter(tx, passkey, passkey.counter, {
      counter: assertion.newCounter,
      backedUp: assertion.backedUp,
      at,
    });
    if (!advanced)
      throw new AssertionRefused(GENERIC, 'concurrent_use', { userId: login.userId, passkeyId: passkey.id });
  }

  /**
   * A signature counter that does not move forward (when either side is non-zero) is refused. The passkey is
   * FLAGGED (blocked until an administrator clears it) only on strong evidence of a clone, defined as:
   *
   *   the asserted counter is not above the counter the passkey already had when this ceremony's challenge was
   *   issued — i.e. the stored counter was last changed (last_used_at, or created_at if never used) BEFORE the
   *   challenge was created, and the assertion does not exceed it.
   *
   * A genuine authenticator signs this assertion after the challenge was issued, so after the stored counter was
   * signed: its counter must be higher. Two genuine assertions verified out of order (two tabs, two ceremonies
   * started before either finished) fail this only the other way round: the one that lost was challenged before
   * the winner's sign-in was recorded, so it is refused as stale and the passkey keeps working. Both times come
   * from the service clock (instances must keep their clocks in sync). A lost compare-and-set in `record` means
   * another sign-in committed after this one was read, which is the race, never evidence.
   */
  private async checkCounter(
    context: AuditContext,
    pending: Challenge,
    passkey: Passkey,
    asserted: number,
    refuse: (m: string, r: string) => AssertionRefused,
  ): Promise<void> {
    if (asserted > passkey.counter || (asserted === 0 && passkey.counter === 0)) return;
    const counterSetAt = (passkey.lastUsedAt ?? passkey.createdAt).getTime();
    if (counterSetAt >= pending.createdAt.getTime()) {
      throw refuse('sign-in failed: this passkey was used for another sign-in meanwhile; try again', 'counter_stale');
    }
    await this.uow.run(async (tx) => {
      if (await this.passkeys.flag(tx, passkey.id, 'counter_regression', this.clock.now())) {
        await this.audit.record(
          context,
          {
            type: 'passkey.flagged',
            outcome: 'success',
            subjectType: 'user',
            subjectId: passkey.userId,
            reason: 'counter_regression',
            details: { passkeyId: passkey.id, storedCounter: passkey.counter, assertedCounter: asserted },
          },
          tx,
        );
      }
    });
    throw refuse(
      `sign-in failed: this passkey looks cloned and was blocked; ask an administrator to review it${BREAK_GLASS}`,
      'counter_regression',
    );
  }

  /** §7.2 step 6: the user handle, when present, must be the credential owner's; a discoverable login must send it. */
  private checkUserHandle(
    pending: Challenge,
    response: AuthenticationResponseJSON,
    user: User,
    refuse: (m: string, r: string) => AssertionRefused,
  ): void {
    const handle = response.response?.userHandle;
    if (handle !== undefined && handle !== null && handle !== '') {
      if (handle !== user.webauthnUserId) throw refuse(GENERIC, 'user_handle_mismatch');
    } else if (pending.allowCredentialIds.length === 0) {
      throw refuse(GENERIC, 'user_handle_missing');
    }
    if (pending.userId && pending.userId !== user.id) throw refuse(GENERIC, 'credential_of_other_user');
  }

  private async verifySignature(
    pending: Challenge,
    response: AuthenticationResponseJSON,
    passkey: Passkey,
    refuse: (m: string, r: string) => AssertionRefused,
  ): Promise<VerifiedAuthenticationResponse> {
    let verification: VerifiedAuthenticationResponse;
    try {
      verification = await verifyAuthenticationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: this.config.webauthn.origins,
        expectedRPID: this.config.webauthn.rpId,
        // The counter rule is applied by us after the signature is known to be good (see checkCounter), so a
        // forged assertion cannot get a genuine passkey flagged.
        credential: {
          id: passkey.credentialId,
          publicKey: Buffer.from(passkey.publicKey, 'base64url'),
          counter: 0,
          transports: passkey.transports,
        },
        // Decided from the stored challenge (a step-up demands UV), never from the request being verified.
        requireUserVerification:
          this.config.webauthn.userVerification === 'required' || pending.requireUserVerification,
      });
    } catch (error) {
      throw refuse(`sign-in failed: ${(error as Error).message}`, 'assertion_invalid');
    }
    if (!verification.verified) throw refuse(GENERIC, 'bad_signature');
    return verification;
  }
}
