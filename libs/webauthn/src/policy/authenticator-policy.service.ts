import { Inject, Injectable } from '@nestjs/common';
import {
  decodeAttestationObject,
  convertCertBufferToPEM,
  validateCertificatePath,
} from '@simplewebauthn/server/helpers';
import { AuditContext, AuditService } from '@app/audit';
import { APP_CONFIG, AppConfig, CLOCK, Clock } from '@app/config';
import { AppError, ErrorCode } from '@app/errors';
import { Tx, UnitOfWork } from '@app/persistence';
import { authenticatorName, defaultPasskeyLabel } from '../model-names';
import { Passkey } from '../passkey.entity';
import { PasskeyRepository } from '../passkey.repository';
import { MdsCatalog } from './mds-catalog';
import { PolicyComplianceRepository } from './policy-compliance.repository';
import { Requirement, requirementFor, Violation, violation } from './requirement';

export const MDS_CATALOG = Symbol('MDS_CATALOG');

const DAY_MS = 86_400_000;

/** What a new passkey's registration ceremony showed, for the policy to judge. */
export interface NewAuthenticator {
  aaguid: string;
  fmt: string;
  attestationObject: Uint8Array;
  backupEligible: boolean;
  userVerified: boolean;
}

/** Told to a person whose passkey the policy no longer allows, while the grace period runs. */
export interface PolicyNotice {
  reason: string;
  message: string;
  /** From then on this passkey no longer signs them in. */
  notAllowedAfter: string;
}

export type SignInVerdict =
  | { kind: 'allowed' }
  | { kind: 'compromised'; violation: Violation }
  | { kind: 'grace' | 'refused'; violation: Violation; graceEnds: Date };

/** A person's compliance: every active passkey allowed, or the reasons why not. */
export interface PersonCompliance {
  status: 'compliant' | 'non_compliant' | 'no_policy';
  reason?: string;
}

/**
 * AUTHENTICATOR_POLICY applied: which attestation to ask for, whether a new passkey is allowed, and what happens to
 * stored passkeys the policy no longer allows (marked, a grace period, then refused at sign-in).
 */
@Injectable()
export class AuthenticatorPolicyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(MDS_CATALOG) private readonly catalog: MdsCatalog | null,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly uow: UnitOfWork,
    private readonly compliance: PolicyComplianceRepository,
    private readonly audit: AuditService,
    private readonly passkeys: PasskeyRepository,
  ) {}

  get configured(): boolean {
    return this.config.authenticatorPolicy.rules.length > 0 || this.catalog !== null;
  }

  requirement(groups: readonly string[]): Requirement {
    return requirementFor(this.config.authenticatorPolicy.rules, groups);
  }

  /** `direct` only when a rule of this person's groups needs the model proven; `none` keeps everyone else private. */
  attestationFor(groups: readonly string[]): 'direct' | 'none' {
    return this.requirement(groups).attestation ? 'direct' : 'none';
  }

  /** The model's name: FIDO's metadata where it has one, else the name table. */
  modelName(aaguid: string): string | undefined {
    return this.catalog?.model(aaguid)?.name ?? authenticatorName(aaguid);
  }

  /** A new passkey's label when its owner gives none: the model's name, else the kind of credential. */
  defaultLabel(aaguid: string, deviceType: 'singleDevice' | 'multiDevice'): string {
    return this.catalog?.model(aaguid)?.name ?? defaultPasskeyLabel(aaguid, deviceType);
  }

  /** Refuses (AppError, reason = the policy reason) a new passkey the person's rules do not allow. */
  async checkNewPasskey(groups: readonly string[], reg: NewAuthenticator): Promise<{ attested: boolean }> {
    const req = this.requirement(groups);
    const catalog = this.freshCatalog();
    if (req.attestation && !catalog) {
      const message = this.catalog
        ? `this role needs a security key model checked against FIDO's metadata, which expired on ${this.catalog.nextUpdate.toISOString().slice(0, 10)}; an administrator must download a fresh MDS blob (MDS_BLOB_PATH)`
        : "this role needs a security key model checked against FIDO's metadata, which is not configured (MDS_BLOB_PATH)";
      throw new AppError(ErrorCode.RegistrationFailed, message, 'mds_unavailable');
    }
    const attested = catalog ? await this.attestationTrusted(catalog, reg) : false;
    const found = violation(
      req,
      { aaguid: reg.aaguid, attested, backupEligible: reg.backupEligible, userVerified: reg.userVerified },
      this.catalog?.model(reg.aaguid),
      (a) => this.modelName(a) ?? a,
    );
    if (found)
      throw new AppError(ErrorCode.RegistrationFailed, `this passkey is not allowed: ${found.message}`, found.reason);
    return { attested };
  }

  /** Why a stored passkey is not allowed for these groups now, or null. */
  evaluate(passkey: Passkey, groups: readonly string[]): Violation | null {
    return violation(
      this.requirement(groups),
      { aaguid: passkey.aaguid, attested: passkey.attestationTrusted, backupEligible: passkey.backupEligible },
      this.catalog?.model(passkey.aaguid),
      (a) => this.modelName(a) ?? a,
    );
  }

  graceEnds(since: Date): Date {
    return new Date(since.getTime() + this.config.authenticatorPolicy.graceDays * DAY_MS);
  }

  /**
   * At sign-in, from current state (the owner's groups now, the policy now): a compliant passkey loses any mark; a
   * non-compliant one is marked (its grace period starts now if it had not) and signs in, with a notice, until the
   * grace period ends. A compromised model is flagged at once (the existing passkey flag: an admin reviews it).
   */
  async atSignIn(context: AuditContext, passkey: Passkey, groups: readonly string[]): Promise<SignInVerdict> {
    const found = this.evaluate(passkey, groups);
    const now = this.clock.now();
    if (found?.reason === 'authenticator_compromised') {
      await this.uow.run(async (tx) => {
        if (await this.passkeys.flag(tx, passkey.id, found.reason, now))
          await this.audit.record(
            context,
            {
              type: 'passkey.flagged',
              outcome: 'success',
              subjectType: 'user',
              subjectId: passkey.userId,
              reason: found.reason,
              details: { passkeyId: passkey.id, aaguid: passkey.aaguid },
            },
            tx,
          );
      });
      return { kind: 'compromised', violation: found };
    }
    // The usual case writes nothing: no unit of work on the sign-in's hot path.
    if (!found && !passkey.policyNonCompliantSince) return { kind: 'allowed' };
    const since = await this.uow.run((tx) => this.record(tx, context, passkey, found, now));
    if (!found || !since) return { kind: 'allowed' };
    const graceEnds = this.graceEnds(since);
    return { kind: now.getTime() >= graceEnds.getTime() ? 'refused' : 'grace', violation: found, graceEnds };
  }

  /** The notice for the passkey a sign-in just used (read from what the sign-in stored), if any. */
  async noticeFor(credentialId: string): Promise<PolicyNotice | undefined> {
    const passkey = await this.uow.run((tx) => this.compliance.findByCredentialId(tx, credentialId));
    if (!passkey?.policyNonCompliantSince || !passkey.policyReason) return undefined;
    return this.noticeOf(passkey);
  }

  noticeOf(passkey: Passkey): PolicyNotice | undefined {
    if (!passkey.policyNonCompliantSince || !passkey.policyReason) return undefined;
    const notAllowedAfter = this.graceEnds(passkey.policyNonCompliantSince).toISOString();
    return {
      reason: passkey.policyReason,
      message: `This passkey is not allowed for your role after ${notAllowedAfter.slice(0, 10)} (${describeReason(passkey.policyReason)}): add a passkey your role allows.`,
      notAllowedAfter,
    };
  }

  /** A person is compliant when every active passkey is allowed (and they have at least one). */
  personCompliance(passkeys: Passkey[]): PersonCompliance {
    if (!this.configured) return { status: 'no_policy' };
    const active = passkeys.filter((p) => !p.revokedAt);
    const bad = active.find((p) => p.policyReason || p.flagReason === 'authenticator_compromised');
    if (bad) return { status: 'non_compliant', reason: bad.policyReason ?? bad.flagReason ?? undefined };
    if (active.length === 0) return { status: 'non_compliant', reason: 'no_passkey' };
    return { status: 'compliant' };
  }

  /**
   * Evaluates every active passkey against its owner's current groups: marks those the policy stopped allowing (their
   * grace period starts now) and clears those it allows again. Run at start-up and periodically, so a tightened
   * policy or a changed group starts the clock even for people who do not sign in.
   */
  async sweep(context: AuditContext): Promise<{ marked: number; cleared: number }> {
    const now = this.clock.now();
    return this.uow.run(async (tx) => {
      let marked = 0;
      let cleared = 0;
      for (const { passkey, groups } of await this.compliance.activeWithGroups(tx)) {
        const was = passkey.policyNonCompliantSince;
        const since = await this.record(tx, context, passkey, this.evaluate(passkey, groups), now);
        if (!was && since) marked++;
        if (was && !since) cleared++;
      }
      return { marked, cleared };
    });
  }

  /** Stores the verdict; returns when the passkey became non-compliant (null when it complies). */
  private async record(
    tx: Tx,
    context: AuditContext,
    passkey: Passkey,
    found: Violation | null,
    now: Date,
  ): Promise<Date | null> {
    const event = { subjectType: 'user' as const, subjectId: passkey.userId };
    if (!found) {
      if (passkey.policyNonCompliantSince && (await this.compliance.clear(tx, passkey.id)))
        await this.audit.record(
          context,
          { ...event, type: 'passkey.policy_compliant', outcome: 'success', details: { passkeyId: passkey.id } },
          tx,
        );
      return null;
    }
    if (await this.compliance.mark(tx, passkey.id, found.reason, now)) {
      await this.audit.record(
        context,
        {
          ...event,
          type: 'passkey.policy_noncompliant',
          outcome: 'success',
          reason: found.reason,
          details: { passkeyId: passkey.id, graceEnds: this.graceEnds(now).toISOString() },
        },
        tx,
      );
      return now;
    }
    return passkey.policyNonCompliantSince ?? now;
  }

  private freshCatalog(): MdsCatalog | null {
    return this.catalog && !this.catalog.isStale(this.clock.now()) ? this.catalog : null;
  }

  /**
   * Full (x5c) packed attestation whose chain ends at a trust anchor of the model's MDS statement. SimpleWebAuthn
   * has already checked the signature with the leaf and the leaf's AAGUID extension; the chain is checked here,
   * against this catalog's roots for this AAGUID (not a process-wide MetadataService), so a key cannot borrow another
   * model's roots.
   */
  private async attestationTrusted(catalog: MdsCatalog, reg: NewAuthenticator): Promise<boolean> {
    if (reg.fmt !== 'packed') return false;
    const model = catalog.model(reg.aaguid);
    if (!model || !model.fullAttestation || model.roots.length === 0) return false;
    const x5c = decodeAttestationObject(new Uint8Array(reg.attestationObject)).get('attStmt').get('x5c');
    if (!x5c || x5c.length === 0) return false;
    try {
      return await validateCertificatePath(
        x5c.map((c) => convertCertBufferToPEM(c)),
        model.roots,
      );
    } catch {
      return false;
    }
  }
}

const REASONS: Record<string, string> = {
  synced_passkey: 'synced passkeys are not allowed for your role',
  model_not_allowed: 'its model is not approved for your role',
  attestation_missing: 'it does not prove its model',
  certification_level: 'its FIDO certification level is too low for your role',
  user_verification: 'it does not verify you',
  authenticator_compromised: 'its model is reported compromised',
};

export function describeReason(reason: string): string {
  return REASONS[reason] ?? reason;
}
