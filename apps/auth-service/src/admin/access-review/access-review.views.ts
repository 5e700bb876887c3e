import { ApiProperty } from '@nestjs/swagger';
import { SIGN_IN_METHODS, SignInMethod } from '@app/accounts';

/* The OpenAPI shape of `GET /v1/admin/reports/access-review` (access-review.ts builds it). */

const DATE_TIME = { type: String, format: 'date-time' } as const;
const NULLABLE_DATE_TIME = { ...DATE_TIME, nullable: true } as const;

export class Compliance {
  @ApiProperty({
    enum: ['compliant', 'non_compliant', 'not_evaluated'],
    description:
      "against AUTHENTICATOR_POLICY for the person's groups now (a person: every active passkey allowed); not_evaluated while no policy or MDS blob is configured",
  })
  status: 'compliant' | 'non_compliant' | 'not_evaluated';
  @ApiProperty({ required: false, example: 'synced_passkey' }) reason?: string;
  @ApiProperty({ ...NULLABLE_DATE_TIME, required: false, description: 'a non-compliant passkey signs in until then' })
  notAllowedAfter?: string | null;
}

export class AccessReviewPasskey {
  @ApiProperty() id: string;
  @ApiProperty() label: string;
  @ApiProperty({ type: String, nullable: true, description: 'the authenticator model, when its AAGUID is known' })
  model: string | null;
  @ApiProperty() aaguid: string;
  @ApiProperty({ description: 'bound to one device (not a synced passkey)' }) deviceBound: boolean;
  @ApiProperty({ description: 'the authenticator said the credential is backed up (synced)' }) backedUp: boolean;
  @ApiProperty({ enum: ['active', 'flagged', 'revoked'] }) status: 'active' | 'flagged' | 'revoked';
  @ApiProperty(DATE_TIME) createdAt: string;
  @ApiProperty(NULLABLE_DATE_TIME) lastUsedAt: string | null;
  @ApiProperty({ type: Compliance }) compliance: Compliance;
}

export class AccessReviewPerson {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ type: [String] }) groups: string[];
  @ApiProperty({ enum: ['active', 'disabled'] }) status: 'active' | 'disabled';
  @ApiProperty(DATE_TIME) createdAt: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description: "issuer of the person's identity provider; null for a local person",
  })
  identityProvider: string | null;
  @ApiProperty(NULLABLE_DATE_TIME) lastSignInAt: string | null;
  @ApiProperty({ type: String, nullable: true, enum: SIGN_IN_METHODS }) lastSignInMethod: SignInMethod | null;
  @ApiProperty(NULLABLE_DATE_TIME) lastTokenIssuedAt: string | null;
  @ApiProperty({ description: 'enabled, and no sign-in (or, never signed in, no creation) within dormantDays' })
  dormant: boolean;
  @ApiProperty(NULLABLE_DATE_TIME) disabledAt: string | null;
  @ApiProperty({
    type: Boolean,
    nullable: true,
    description: 'disabled people only: no token was issued after the disabling',
  })
  sessionsEnded: boolean | null;
  @ApiProperty({ type: [AccessReviewPasskey], description: 'revoked ones included' }) passkeys: AccessReviewPasskey[];
  @ApiProperty({ type: Compliance }) compliance: Compliance;
}

export class AccessReviewServiceAccount {
  @ApiProperty() id: string;
  @ApiProperty() name: string;
  @ApiProperty() clientId: string;
  @ApiProperty({ type: [String] }) groups: string[];
  @ApiProperty({ type: [String] }) scopes: string[];
  @ApiProperty({ enum: ['active', 'disabled'] }) status: 'active' | 'disabled';
  @ApiProperty() disabled: boolean;
  @ApiProperty(DATE_TIME) createdAt: string;
  @ApiProperty() createdBy: string;
  @ApiProperty(NULLABLE_DATE_TIME) secretRotatedAt: string | null;
  @ApiProperty(NULLABLE_DATE_TIME) disabledAt: string | null;
  @ApiProperty({ ...NULLABLE_DATE_TIME, description: 'last token issued to it' }) lastUsedAt: string | null;
  @ApiProperty() dormant: boolean;
}

export class AccessReviewFailure {
  @ApiProperty({ example: 'passkey', description: 'passkey, federated, federated+passkey or client_credentials' })
  kind: string;
  @ApiProperty({ example: 'unknown_credential' }) reason: string;
  @ApiProperty({ description: 'refused attempts (a flood aggregated in the trail counts each attempt)' })
  attempts: number;
  @ApiProperty(DATE_TIME) lastAt: string;
}

export class AccessReviewKeyRotation {
  @ApiProperty(DATE_TIME) at: string;
  @ApiProperty({ example: 'schedule' }) by: string;
  @ApiProperty({ type: String, nullable: true }) activeKid: string | null;
  @ApiProperty({ type: String, nullable: true }) retiredKid: string | null;
}

export class AccessReviewFailures {
  @ApiProperty() attempts: number;
  @ApiProperty({ type: [AccessReviewFailure] }) byReason: AccessReviewFailure[];
}

export class SignInsOnDay {
  @ApiProperty({ example: '2026-10-01' }) day: string;
  @ApiProperty() count: number;
}

export class AuditHeadEvidence {
  @ApiProperty({ description: 'the stored trail matched its hash chain when the report was made' }) intact: boolean;
  @ApiProperty() events: number;
  @ApiProperty({ type: Number, nullable: true }) seq: number | null;
  @ApiProperty({ type: String, nullable: true }) hash: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'intact trails only: the broken link otherwise' }) problem:
    string | null;
  @ApiProperty(DATE_TIME) verifiedAt: string;
  @ApiProperty({
    type: String,
    nullable: true,
    description:
      'compact JWS (typ audit-checkpoint+jws, the signer\'s public key in its header) over {purpose: "access-review.audit-head", seq, hash, events, verifiedAt}, by the service\'s active signing key; null when the trail is broken or no key could sign',
  })
  signature: string | null;
  @ApiProperty({ type: String, nullable: true }) signedBy: string | null;
}

export class Delegations {
  @ApiProperty({ description: 'why the list is what it is' }) note: string;
  @ApiProperty({ type: [Object] }) items: never[];
}

export class AccessReviewPeriod {
  @ApiProperty(DATE_TIME) since: string;
  @ApiProperty(DATE_TIME) until: string;
}

export class AccessReview {
  @ApiProperty(DATE_TIME) generatedAt: string;
  @ApiProperty({ type: AccessReviewPeriod }) period: AccessReviewPeriod;
  @ApiProperty() dormantDays: number;
  @ApiProperty({ type: [AccessReviewPerson] }) people: AccessReviewPerson[];
  @ApiProperty({ type: [AccessReviewServiceAccount], description: 'service accounts (and agents, once they exist)' })
  serviceAccounts: AccessReviewServiceAccount[];
  @ApiProperty({ type: Delegations }) delegations: Delegations;
  @ApiProperty({ type: [AccessReviewKeyRotation], description: 'signing-key rotations in the period' })
  keyRotations: AccessReviewKeyRotation[];
  @ApiProperty({ type: AccessReviewFailures }) failedSignIns: AccessReviewFailures;
  @ApiProperty({ type: [SignInsOnDay], description: 'every UTC day of the period' }) signInsPerDay: SignInsOnDay[];
  @ApiProperty({ type: AuditHeadEvidence }) auditChain: AuditHeadEvidence;
}
