import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import {
  generateRegistrationOptions,
  PublicKeyCredentialCreationOptionsJSON,
  verifyRegistrationResponse,
  VerifiedRegistrationResponse,
} from '@simplewebauthn/server';
import { decodeCredentialPublicKey } from '@simplewebauthn/server/helpers';
import { isUniqueViolation, Tx, UnitOfWork } from '@app/persistence';
import { Invite, InvitesService, User, UserRepository, UsersService } from '@app/accounts';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import {
  ACCEPTED_ATTESTATION_FORMATS,
  PASSKEY_LABEL_MAX_LENGTH,
  RegisteredPasskey,
  RegistrationRequester,
  RegistrationResponseJSON,
  SUPPORTED_ALGORITHMS,
} from './ceremony.types';
import { Challenge } from './challenge.entity';
import { ChallengeStoreService } from './challenge-store.service';
import { isBase64Url, readClientData } from './client-data';
import { Passkey } from './passkey.entity';
import { PasskeyRepository } from './passkey.repository';
import { AuthenticatorPolicyService } from './policy';

@Injectable()
export class RegistrationService {
  constructor(
    private readonly uow: UnitOfWork,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly challenges: ChallengeStoreService,
    private readonly users: UsersService,
    private readonly invites: InvitesService,
    private readonly audit: AuditService,
    private readonly passkeys: PasskeyRepository,
    private readonly userRows: UserRepository,
    private readonly policy: AuthenticatorPolicyService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async options(
    context: AuditContext,
    requester: RegistrationRequester,
    displayNameHint?: string,
  ): Promise<PublicKeyCredentialCreationOptionsJSON> {
    let username: string;
    let displayName: string;
    let webauthnUserId: string;
    let existing: User | null;
    let inviteId: string | null = null;
    let groups: string[];
    if (requester.kind === 'invite') {
      const invite = await this.redeemableInvite(context, requester.inviteToken);
      inviteId = invite.id;
      existing = invite.userId ? await this.users.findById(invite.userId) : null;
      // An invite for a new person creates their account: a name taken since (by a provider sign-in, another invite)
      // is someone else's account, never the invited person's.
      if (!invite.userId && (await this.users.findByUsername(invite.username))) throw inviteNameTaken(invite.username);
      username = invite.username;
      displayName = existing?.displayName ?? invite.displayName ?? displayNameHint?.trim() ?? invite.username;
      webauthnUserId = existing?.webauthnUserId ?? UsersService.newWebAuthnUserId();
      groups = existing?.groups ?? invite.groups;
    } else {
      existing = await this.users.findById(requester.userId);
      if (!existing || existing.disabledAt)
        throw new AppError(ErrorCode.Forbidden, 'this account cannot add passkeys', 'user_unavailable');
      username = existing.username;
      displayName = existing.displayName;
      webauthnUserId = existing.webauthnUserId;
      groups = existing.groups;
    }
    if (existing?.disabledAt) throw new AppError(ErrorCode.Forbidden, 'this account is disabled', 'user_disabled');

    const current = existing ? await this.uow.run((tx) => this.passkeys.activeOf(tx, existing.id)) : [];
    const options = await generateRegistrationOptions({
      rpName: this.config.webauthn.rpName,
      rpID: this.config.webauthn.rpId,
      userName: username,
      userDisplayName: displayName || username,
      userID: Buffer.from(webauthnUserId, 'base64url'),
      // Asked only where the person's authenticator policy needs the model proven.
      attestationType: this.policy.attestationFor(groups),
      excludeCredentials: current.map((p) => ({ id: p.credentialId, transports: p.transports as never })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: this.config.webauthn.userVerification },
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      timeout: this.config.webauthn.challengeTtlSeconds * 1000,
    });
    await this.uow.run((tx) =>
      this.challenges.store(tx, {
        challenge: options.challenge,
        ceremony: 'registration',
        userId: existing?.id ?? null,
        inviteId,
        webauthnUserId,
      }),
    );
    return options;
  }

  /**
   * @param signedInUserId the Bearer user, when there is one: a challenge issued to a signed-in user can only be
   * finished by that same user.
   */
  async verify(
    context: AuditContext,
    response: RegistrationResponseJSON,
    label: string | undefined,
    signedInUserId?: string,
  ): Promise<RegisteredPasskey> {
    try {
      return await this.verifyOrThrow(context, response, label, signedInUserId);
    } catch (error) {
      if (error instanceof AppError) {
        await this.audit.record(context, {
          type: 'passkey.registration',
          outcome: 'failure',
          reason: error.reason,
          details: { credentialId: typeof response?.id === 'string' ? response.id.slice(0, 64) : undefined },
        });
      }
      throw error;
    }
  }

  private async verifyOrThrow(
    context: AuditContext,
    response: RegistrationResponseJSON,
    label: string | undefined,
    signedInUserId?: string,
  ): Promise<RegisteredPasskey> {
    if (!isBase64Url(response?.id, 1400) || response.id !== response.rawId) {
      throw new AppError(
        ErrorCode.InvalidRequest,
        'response.id and response.rawId must be the same base64url credential id',
        'malformed_response',
      );
    }
    const cleanLabel = label?.trim();
    if (cleanLabel && cleanLabel.length > PASSKEY_LABEL_MAX_LENGTH) {
      throw new AppError(
        ErrorCode.InvalidRequest,
        `label must be at most ${PASSKEY_LABEL_MAX_LENGTH} characters`,
        'label_too_long',
      );
    }
    const clientData = readClientData(response.response?.clientDataJSON);
    const pending = this.challenges.usable(
      await this.uow.run((tx) => this.challenges.take(tx, clientData.challenge, 'registration')),
    );
    if (clientData.crossOrigin)
      throw new AppError(
        ErrorCode.RegistrationFailed,
        "the passkey was created inside another site's frame",
        'cross_origin',
      );
    if (!pending.inviteId && pending.userId !== signedInUserId) {
      throw new AppError(
        ErrorCode.Forbidden,
        'this registration was started by another user',
        'registration_user_mismatch',
      );
    }

    let verification: VerifiedRegistrationResponse;
    try {
      verification = await verifyRegistrationResponse({
        response,
        expectedChallenge: pending.challenge,
        expectedOrigin: this.config.webauthn.origins,
        expectedRPID: this.config.webauthn.rpId,
        requireUserVerification: this.config.webauthn.userVerification === 'required',
        supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
      });
    } catch (error) {
      throw new AppError(
        ErrorCode.RegistrationFailed,
        `the passkey could not be verified: ${(error as Error).message}`,
        'registration_invalid',
      );
    }
    const info = verification.registrationInfo;
    if (!verification.verified || !info)
      throw new AppError(ErrorCode.RegistrationFailed, 'the passkey could not be verified', 'registration_unverified');
    if (!ACCEPTED_ATTESTATION_FORMATS.has(info.fmt)) {
      throw new AppError(
        ErrorCode.RegistrationFailed,
        `attestation format "${info.fmt}" is not accepted (only none and packed)`,
        'attestation_format',
      );
    }
    if (info.credential.id !== response.id)
      throw new AppError(
        ErrorCode.RegistrationFailed,
        'credential id in the attestation does not match the response',
        'credential_id_mismatch',
      );
    if (await this.uow.run((tx) => this.passkeys.existsByCredentialId(tx, info.credential.id))) {
      throw new AppError(ErrorCode.Conflict, 'this authenticator is already registered', 'credential_exists');
    }

    const { attested } = await this.policy.checkNewPasskey(await this.enrollingGroups(pending), {
      aaguid: info.aaguid,
      fmt: info.fmt,
      attestationObject: info.attestationObject,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      userVerified: info.userVerified,
    });

    const now = this.clock.now();
    const passkey = Object.assign(new Passkey(), {
      id: randomUUID(),
      credentialId: info.credential.id,
      publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
      algorithm: coseAlgorithm(info.credential.publicKey),
      counter: info.credential.counter,
      transports: (response.response.transports ?? []).filter((t) => typeof t === 'string').slice(0, 8),
      aaguid: info.aaguid,
      deviceType: info.credentialDeviceType,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backedUp: info.credentialBackedUp,
      attestationFormat: info.fmt,
      label: cleanLabel || this.policy.defaultLabel(info.aaguid, info.credentialDeviceType),
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
      flaggedAt: null,
      flagReason: null,
      attestationTrusted: attested,
      policyNonCompliantSince: null,
      policyReason: null,
    });

    const user = await this.commit(context, pending, passkey);
    return {
      id: passkey.id,
      credentialId: passkey.credentialId,
      label: passkey.label,
      createdAt: passkey.createdAt,
      userId: user.id,
      username: user.username,
      deviceType: passkey.deviceType,
      backedUp: passkey.backedUp,
      aaguid: passkey.aaguid,
    };
  }

  /**
   * The user (for an invite to a new name), the passkey, the used invite and the audit event commit together, in one
   * unit of work. The invite is re-checked there (still pending: not used, revoked or expired since the options).
   */
  private async commit(context: AuditContext, pending: Challenge, passkey: Passkey): Promise<User> {
    try {
      return await this.uow.run(async (tx) => {
        let owner: User | null = pending.userId ? await this.userRows.findById(tx, pending.userId) : null;
        if (pending.inviteId) {
          const invite = await this.invites.findById(tx, pending.inviteId);
          this.invites.requirePending(invite);
          owner = await this.inviteOwner(tx, invite, pending);
          await this.invites.markUsed(tx, invite, owner.id);
        }
        if (!owner || owner.disabledAt)
          throw new AppError(ErrorCode.Forbidden, 'this account cannot add passkeys', 'user_unavailable');
        if (owner.webauthnUserId !== pending.webauthnUserId)
          throw new AppError(
            ErrorCode.Conflict,
            'the account changed during enrollment; start again',
            'user_handle_changed',
          );
        await this.passkeys.insert(tx, { ...passkey, userId: owner.id });
        await this.audit.record(
          context,
          {
            type: 'passkey.registration',
            outcome: 'success',
            subjectType: 'user',
            subjectId: owner.id,
            details: {
              passkeyId: passkey.id,
              username: owner.username,
              aaguid: passkey.aaguid,
              fmt: passkey.attestationFormat,
              deviceType: passkey.deviceType,
              viaInvite: pending.inviteId ?? undefined,
            },
          },
          tx,
        );
        return owner;
      });
    } catch (error) {
      // Two enrollments racing on one invite (or one authenticator) both pass the reads; the database's unique
      // constraints decide, and the loser gets the same answer it would have got a moment later.
      if (!isUniqueViolation(error)) throw error;
      if (pending.inviteId)
        throw new AppError(ErrorCode.InvalidInvite, 'this invite link was already used', 'invite_used');
      throw new AppError(ErrorCode.Conflict, 'this authenticator is already registered', 'credential_exists');
    }
  }

  /**
   * Whose passkey an invite's enrollment adds, decided at commit: the account the invite was made for, or, for an
   * invite to a new name, a new account with the invite's groups. Never an account found by name: one created after
   * the invite (a provider sign-in, another invite) belongs to someone else, and the invite's groups would be lost.
   */
  private async inviteOwner(tx: Tx, invite: Invite, pending: Challenge): Promise<User> {
    if (invite.userId) {
      if (pending.userId !== invite.userId) {
        const message = 'the account changed during enrollment; start again';
        throw new AppError(ErrorCode.Conflict, message, 'user_handle_changed');
      }
      const owner = await this.userRows.findById(tx, invite.userId);
      if (!owner) throw new AppError(ErrorCode.Forbidden, 'this account cannot add passkeys', 'user_unavailable');
      return owner;
    }
    if (pending.userId) throw inviteNameTaken(invite.username);
    if (await this.userRows.findByUsername(tx, invite.username)) {
      // The name may be taken by a racing enrollment on this same invite that committed after our first read (read
      // committed, PostgreSQL): read the invite again so that loser hears "already used", as it would a moment later.
      this.invites.requirePending(await this.invites.findById(tx, invite.id));
      throw inviteNameTaken(invite.username);
    }
    const { username, displayName, groups } = invite;
    return this.users.create(tx, { username, displayName, groups, webauthnUserId: pending.webauthnUserId! });
  }

  /** Whose rules a new passkey must meet: the account's groups, or a new person's invite's groups. */
  private async enrollingGroups(pending: Challenge): Promise<string[]> {
    if (pending.inviteId) {
      const invite = await this.uow.run((tx) => this.invites.findById(tx, pending.inviteId!));
      if (!invite?.userId) return invite?.groups ?? [];
      return (await this.users.findById(invite.userId))?.groups ?? [];
    }
    return pending.userId ? ((await this.users.findById(pending.userId))?.groups ?? []) : [];
  }

  private async redeemableInvite(context: AuditContext, token: string) {
    try {
      return await this.invites.findRedeemable(token);
    } catch (error) {
      if (error instanceof AppError)
        await this.audit.record(context, { type: 'invite.redeem', outcome: 'failure', reason: error.reason });
      throw error;
    }
  }
}

function inviteNameTaken(username: string): AppError {
  const message = `an account named "${username}" was created after this invite was made; ask an administrator for a new invite`;
  return new AppError(ErrorCode.Conflict, message, 'invite_username_taken');
}

function coseAlgorithm(publicKey: Uint8Array): number {
  const alg = decodeCredentialPublicKey(new Uint8Array(publicKey)).get(3);
  return typeof alg === 'number' ? alg : 0;
}
