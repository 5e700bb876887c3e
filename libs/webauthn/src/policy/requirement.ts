import { AuthenticatorPolicyRule, CERTIFIED_LEVELS, CertifiedLevel } from '@app/config';

/**
 * What one person's authenticators must be: the strictest combination of every AUTHENTICATOR_POLICY rule that names
 * one of their groups (or `*`). Pure, so the combination is tested without a service.
 */
export interface Requirement {
  /** The model must be proven: attestation chained to a trust anchor from FIDO's metadata. */
  attestation: boolean;
  /** Allowed models; null = any. Several rules with lists: only models every list allows. */
  aaguids: string[] | null;
  /** Synced (backup-eligible) passkeys are not allowed. */
  deviceBound: boolean;
  userVerification: boolean;
  /** The lowest FIDO certification level allowed; null = any. */
  certifiedLevel: CertifiedLevel | null;
  /** How many rules applied (0: the person is free to use any passkey, save a compromised model). */
  rules: number;
}

export const NO_REQUIREMENT: Requirement = {
  attestation: false,
  aaguids: null,
  deviceBound: false,
  userVerification: false,
  certifiedLevel: null,
  rules: 0,
};

export function levelRank(level: CertifiedLevel | null | undefined): number {
  return level ? CERTIFIED_LEVELS.indexOf(level) : -1;
}

export function requirementFor(rules: readonly AuthenticatorPolicyRule[], groups: readonly string[]): Requirement {
  const mine = rules.filter((r) => r.groups.includes('*') || r.groups.some((g) => groups.includes(g)));
  return mine.reduce<Requirement>(
    (acc, rule) => ({
      attestation:
        acc.attestation ||
        rule.attestation === 'required' ||
        rule.aaguids !== undefined ||
        rule.certifiedLevel !== undefined,
      aaguids: rule.aaguids ? (acc.aaguids ?? rule.aaguids).filter((a) => rule.aaguids!.includes(a)) : acc.aaguids,
      deviceBound: acc.deviceBound || rule.deviceBound === true,
      userVerification: acc.userVerification || rule.userVerification === 'required',
      certifiedLevel:
        levelRank(rule.certifiedLevel) > levelRank(acc.certifiedLevel) ? rule.certifiedLevel! : acc.certifiedLevel,
      rules: acc.rules + 1,
    }),
    NO_REQUIREMENT,
  );
}

/** What is known about an authenticator, at registration or from the stored passkey. */
export interface AuthenticatorFacts {
  aaguid: string;
  /** Its attestation chained to a trust anchor of its model's MDS statement. */
  attested: boolean;
  backupEligible: boolean;
  /** Whether the ceremony verified the user; undefined for a stored passkey (each sign-in checks it again). */
  userVerified?: boolean;
}

/** What FIDO's metadata says about a model (see mds-catalog.ts); undefined when the model is not in it. */
export interface ModelFacts {
  name: string;
  certifiedLevel: CertifiedLevel | null;
  /** A REVOKED or compromise status report, if any. */
  compromise: string | null;
}

export type PolicyReason =
  | 'authenticator_compromised'
  | 'attestation_missing'
  | 'model_not_allowed'
  | 'synced_passkey'
  | 'certification_level'
  | 'user_verification';

export interface Violation {
  reason: PolicyReason;
  /** Told to the person (and their admin): names why, in words. */
  message: string;
}

/**
 * The first rule this authenticator breaks, or null. A compromised model is refused whatever the rules say: its
 * maker or FIDO said its keys cannot be trusted.
 */
export function violation(
  req: Requirement,
  facts: AuthenticatorFacts,
  model: ModelFacts | undefined,
  nameOf: (aaguid: string) => string,
): Violation | null {
  if (model?.compromise) {
    const message =
      model.compromise === 'REVOKED'
        ? `this security key model (${model.name}) was revoked by its maker (FIDO status REVOKED)`
        : `this security key model (${model.name}) is reported compromised (FIDO status ${model.compromise})`;
    return { reason: 'authenticator_compromised', message };
  }
  if (req.deviceBound && facts.backupEligible)
    return {
      reason: 'synced_passkey',
      message: 'this role needs a security key registered on one device; synced passkeys are not allowed',
    };
  if (req.attestation && !facts.attested)
    return {
      reason: 'attestation_missing',
      message:
        "this role needs a security key that proves its model (attestation); this passkey did not, or its maker's certificate is not in FIDO's metadata",
    };
  if (req.aaguids && !req.aaguids.includes(facts.aaguid.toLowerCase()))
    return {
      reason: 'model_not_allowed',
      message: `this role needs an approved security key model (${req.aaguids.map(nameOf).join(', ') || 'none approved for this combination of groups'}); this one is ${nameOf(facts.aaguid)}`,
    };
  if (req.certifiedLevel && levelRank(model?.certifiedLevel) < levelRank(req.certifiedLevel))
    return {
      reason: 'certification_level',
      message: `this role needs a security key certified FIDO ${req.certifiedLevel} or higher; this one is ${model?.certifiedLevel ? `certified ${model.certifiedLevel}` : 'not FIDO certified'}`,
    };
  if (req.userVerification && facts.userVerified === false)
    return {
      reason: 'user_verification',
      message: 'this role needs a passkey that verifies you (PIN or biometrics); this one did not',
    };
  return null;
}
