import { canonicalGroupName, GROUP_NAME_RULE } from './group-name';

/** FIDO certification levels, weakest first (MDS status FIDO_CERTIFIED_L1 … FIDO_CERTIFIED_L3plus). */
export const CERTIFIED_LEVELS = ['L1', 'L1plus', 'L2', 'L2plus', 'L3', 'L3plus'] as const;
export type CertifiedLevel = (typeof CERTIFIED_LEVELS)[number];

/**
 * One rule of AUTHENTICATOR_POLICY, as the operator wrote it (validated). `groups` may hold `*` (everyone). Absent
 * fields ask for nothing; see libs/webauthn/src/policy for how a person's rules combine.
 */
export interface AuthenticatorPolicyRule {
  groups: string[];
  attestation?: 'none' | 'required';
  /** Allowed authenticator models (lower-case AAGUIDs). */
  aaguids?: string[];
  deviceBound?: boolean;
  userVerification?: 'required';
  certifiedLevel?: CertifiedLevel;
}

export interface AuthenticatorPolicyConfig {
  rules: AuthenticatorPolicyRule[];
  /** AUTHENTICATOR_POLICY_GRACE_DAYS: how long a passkey the policy no longer allows still signs its owner in. */
  graceDays: number;
  /** MDS_BLOB_PATH: the FIDO MDS3 blob (a JWS file) the administrator downloads. */
  mdsBlobPath?: string;
  /** MDS_ROOT_CERT_PATH: a PEM root to trust instead of FIDO's (tests, private MDS mirrors). */
  mdsRootCertPath?: string;
}

const KEYS = new Set(['groups', 'attestation', 'aaguids', 'device_bound', 'user_verification', 'certified_level']);
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VAR = 'AUTHENTICATOR_POLICY';

/** A rule needs the authenticator's model proven (attestation checked against MDS trust anchors). */
export function ruleNeedsMetadata(rule: AuthenticatorPolicyRule): boolean {
  return rule.attestation === 'required' || rule.aaguids !== undefined || rule.certifiedLevel !== undefined;
}

/** One rule; every mistake is one line naming the rule (by position) and the key. */
function parseRule(raw: unknown, at: string, problems: string[]): AuthenticatorPolicyRule | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`${VAR}: ${at} must be an object like {"groups": ["airflow-admins"], "device_bound": true}`);
    return undefined;
  }
  const before = problems.length;
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!KEYS.has(key)) problems.push(`${VAR}: ${at} has an unknown key "${key}" (known: ${[...KEYS].join(', ')})`);
  }
  const groups: string[] = [];
  if (!Array.isArray(r.groups) || r.groups.length === 0) {
    problems.push(`${VAR}: ${at}.groups must be a non-empty list of group names (or "*" for everyone)`);
  } else {
    for (const g of r.groups) {
      const name = g === '*' ? '*' : typeof g === 'string' ? canonicalGroupName(g) : undefined;
      if (name === undefined)
        problems.push(`${VAR}: ${at}.groups: ${JSON.stringify(g)} is not a group name (${GROUP_NAME_RULE})`);
      else if (!groups.includes(name)) groups.push(name);
    }
  }
  const rule: AuthenticatorPolicyRule = { groups };
  if (r.attestation !== undefined) {
    if (r.attestation === 'none' || r.attestation === 'required') rule.attestation = r.attestation;
    else problems.push(`${VAR}: ${at}.attestation must be "none" or "required" (got ${JSON.stringify(r.attestation)})`);
  }
  if (r.aaguids !== undefined) {
    if (!Array.isArray(r.aaguids) || r.aaguids.length === 0) {
      problems.push(`${VAR}: ${at}.aaguids must be a non-empty list of AAGUIDs`);
    } else {
      rule.aaguids = [];
      for (const a of r.aaguids) {
        const id = typeof a === 'string' ? a.trim().toLowerCase() : '';
        if (!UUID.test(id)) problems.push(`${VAR}: ${at}.aaguids: ${JSON.stringify(a)} is not an AAGUID (a UUID)`);
        else if (!rule.aaguids.includes(id)) rule.aaguids.push(id);
      }
    }
  }
  if (r.device_bound !== undefined) {
    if (typeof r.device_bound === 'boolean') rule.deviceBound = r.device_bound;
    else problems.push(`${VAR}: ${at}.device_bound must be true or false (got ${JSON.stringify(r.device_bound)})`);
  }
  if (r.user_verification !== undefined) {
    if (r.user_verification === 'required') rule.userVerification = 'required';
    else
      problems.push(`${VAR}: ${at}.user_verification must be "required" (got ${JSON.stringify(r.user_verification)})`);
  }
  if (r.certified_level !== undefined) {
    if (CERTIFIED_LEVELS.includes(r.certified_level as CertifiedLevel))
      rule.certifiedLevel = r.certified_level as CertifiedLevel;
    else
      problems.push(
        `${VAR}: ${at}.certified_level must be one of ${CERTIFIED_LEVELS.join(', ')} (got ${JSON.stringify(r.certified_level)})`,
      );
  }
  if (rule.attestation === 'none' && ruleNeedsMetadata({ ...rule, attestation: undefined }))
    problems.push(`${VAR}: ${at} asks for aaguids or certified_level, which need "attestation": "required"`);
  return problems.length === before ? rule : undefined;
}

/** AUTHENTICATOR_POLICY and its companions; problems are pushed one line each, like every other setting. */
export function parseAuthenticatorPolicy(
  env: {
    AUTHENTICATOR_POLICY?: string;
    AUTHENTICATOR_POLICY_GRACE_DAYS: number;
    MDS_BLOB_PATH?: string;
    MDS_ROOT_CERT_PATH?: string;
  },
  problems: string[],
): AuthenticatorPolicyConfig {
  const rules: AuthenticatorPolicyRule[] = [];
  if (env.AUTHENTICATOR_POLICY !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(env.AUTHENTICATOR_POLICY);
    } catch (error) {
      problems.push(`${VAR} is not JSON: ${(error as Error).message}`);
    }
    if (parsed !== undefined && !Array.isArray(parsed)) problems.push(`${VAR} must be a JSON array of rules`);
    else
      (parsed as unknown[] | undefined)?.forEach((raw, i) => {
        const rule = parseRule(raw, `rule ${i + 1}`, problems);
        if (rule) rules.push(rule);
      });
  }
  if (rules.some(ruleNeedsMetadata) && !env.MDS_BLOB_PATH)
    problems.push(
      `${VAR} has rules that check authenticator models (attestation, aaguids or certified_level): set MDS_BLOB_PATH to a FIDO MDS3 blob`,
    );
  return {
    rules,
    graceDays: env.AUTHENTICATOR_POLICY_GRACE_DAYS,
    ...(env.MDS_BLOB_PATH ? { mdsBlobPath: env.MDS_BLOB_PATH } : {}),
    ...(env.MDS_ROOT_CERT_PATH ? { mdsRootCertPath: env.MDS_ROOT_CERT_PATH } : {}),
  };
}
