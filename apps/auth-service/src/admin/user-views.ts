import { ApiProperty } from '@nestjs/swagger';
import { SIGN_IN_METHODS, SignInMethod } from '@app/accounts';

/*
 * The OpenAPI shape of the user views (views.ts builds them). The view functions are typed with these classes, so
 * a field added to a view without being documented here (or the other way round) does not compile.
 */

export class PasskeyView {
  @ApiProperty() id: string;
  @ApiProperty() label: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) createdAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastUsedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'blocked by a security check until an admin unflags it',
  })
  flaggedAt: string | null;
  @ApiProperty({ type: String, nullable: true, example: 'counter_regression' }) flagReason: string | null;
  @ApiProperty({ description: 'the authenticator said the credential is backed up (synced)' }) backedUp: boolean;
  @ApiProperty({ enum: ['singleDevice', 'multiDevice'] }) deviceType: string;
  @ApiProperty({ description: 'the authenticator model id (all zeros when it did not say)' }) aaguid: string;
  @ApiProperty({ type: String, nullable: true, description: 'the authenticator model, when its AAGUID is known' })
  authenticator: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'synced_passkey',
    description: 'why AUTHENTICATOR_POLICY no longer allows this passkey for its owner; null while it does',
  })
  policyReason: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    required: false,
    description: 'when a passkey the policy no longer allows stops signing its owner in (the grace period ends)',
  })
  notAllowedAfter?: string | null;
}

export class ComplianceView {
  @ApiProperty({
    enum: ['compliant', 'non_compliant', 'no_policy'],
    description: 'compliant: every active passkey is allowed by AUTHENTICATOR_POLICY for their groups',
  })
  status: 'compliant' | 'non_compliant' | 'no_policy';
  @ApiProperty({ required: false, example: 'synced_passkey' }) reason?: string;
}

export class UserView {
  @ApiProperty() id: string;
  @ApiProperty() username: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ type: [String] }) groups: string[];
  @ApiProperty() disabled: boolean;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) createdAt: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'last completed sign-in (passkey, or identity provider)',
  })
  lastLoginAt: string | null;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: SIGN_IN_METHODS,
    description: 'how that sign-in was made; null when never (or before this was recorded)',
  })
  lastLoginMethod: SignInMethod | null;
  @ApiProperty({
    type: String,
    nullable: true,
    example: 'https://company.okta.com',
    description:
      "the issuer URL (OIDC_ISSUER) of the identity provider this person signs in through; null for a local person (invited, passkey only). The issuer, not the login page's display name: it is what identifies the provider and stays the same when the label changes",
  })
  idp: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: 'last sign-in at the identity provider that reached this service; null when never',
  })
  lastIdpLoginAt: string | null;
  @ApiProperty({
    description:
      "raised whenever this person's sessions end for good (disable, a flagged passkey, provider sign-out); a token whose session_gen differs is refused",
  })
  sessionGeneration: number;
  @ApiProperty({
    type: String,
    nullable: true,
    enum: ['account_disabled', 'passkey_flagged', 'idp_logout', 'secret_rotated'],
    description: 'why sessionGeneration last changed',
  })
  sessionsEndedReason: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) sessionsEndedAt: string | null;
}

/** A one-time CLI code (pending) or the command line it signed in; never the code itself (only its hash is stored). */
export class CliSignInView {
  @ApiProperty() id: string;
  @ApiProperty({ enum: ['pending', 'signed_in', 'expired', 'revoked'] }) state: string;
  @ApiProperty({ type: String, format: 'date-time' }) createdAt: string;
  @ApiProperty({ type: String, format: 'date-time', description: 'when the code stops being usable (until used)' })
  expiresAt: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'when a command line signed in' })
  usedAt: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) revokedAt: string | null;
  @ApiProperty({
    type: String,
    format: 'date-time',
    nullable: true,
    description: "Airflow's last re-check of it in use (accurate to recheck_interval_seconds)",
  })
  lastUsedAt: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'address the code was created from' })
  createdFrom: string | null;
  @ApiProperty({ type: String, nullable: true, description: 'address the command line signed in from' })
  usedFrom: string | null;
  @ApiProperty({ type: String, nullable: true, description: "the command line's User-Agent" }) client: string | null;
}

export class UserDetailView extends UserView {
  @ApiProperty({ type: [PasskeyView], description: 'revoked ones included' }) passkeys: PasskeyView[];
  @ApiProperty({
    type: [CliSignInView],
    description: 'command lines signed in with a one-time code and not revoked: a session naming any other is over',
  })
  commandLines: CliSignInView[];
  @ApiProperty({ type: ComplianceView, required: false, description: 'against AUTHENTICATOR_POLICY' })
  compliance?: ComplianceView;
}
