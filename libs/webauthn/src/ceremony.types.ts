import type { AuthenticationResponseJSON, RegistrationResponseJSON } from '@simplewebauthn/server';

/** Who asks for registration options: the holder of an invite, or a signed-in user adding a passkey. */
export type RegistrationRequester = { kind: 'invite'; inviteToken: string } | { kind: 'user'; userId: string };

export interface RegisteredPasskey {
  id: string;
  credentialId: string;
  label: string;
  createdAt: Date;
  userId: string;
  username: string;
  deviceType: 'singleDevice' | 'multiDevice';
  backedUp: boolean;
  aaguid: string;
}

export interface VerifiedLogin {
  userId: string;
  username: string;
  displayName: string;
  groups: string[];
  passkeyId: string;
  amr: string[];
  authTime: Date;
  /** The person's session generation when they signed in (see @app/accounts session-generation.ts). */
  sessionGeneration: number;
}

export type { AuthenticationResponseJSON, RegistrationResponseJSON };

/** COSE algorithm ids accepted for new passkeys: EdDSA, ES256, RS256. */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257];
/** Attestation formats accepted at registration; anything else is refused rather than trusted blindly. */
export const ACCEPTED_ATTESTATION_FORMATS = new Set(['none', 'packed']);

/**
 * The longest passkey label, everywhere a label is set (enrollment, rename; service and Airflow pages alike). The
 * column is wider (128) so that the limit can grow without a migration.
 */
export const PASSKEY_LABEL_MAX_LENGTH = 100;
