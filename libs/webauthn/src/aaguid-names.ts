/**
 * Friendly names for common authenticator models, so a new passkey gets a meaningful default label. A small,
 * hand-kept list (the FIDO metadata service is not reachable from every deployment); unknown models fall back to
 * a generic label.
 */
const NAMES: Record<string, string> = {
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  'cb69481e-8ff7-4039-93ec-0a2729a154a8': 'YubiKey 5 Series',
  'ee882879-721c-4913-9775-3dfcce97072a': 'YubiKey 5 Series',
  'fa2b99dc-9e39-4257-8f92-4a30d23c4118': 'YubiKey 5 NFC',
  '2fc0579f-8113-47ea-b116-bb5a8db9202a': 'YubiKey 5 NFC',
  'c5ef55ff-ad9a-4b9f-b580-adebafe026d0': 'YubiKey 5Ci',
};

export function authenticatorName(aaguid: string): string | undefined {
  return NAMES[aaguid.toLowerCase()];
}

export function defaultPasskeyLabel(aaguid: string, deviceType: 'singleDevice' | 'multiDevice'): string {
  return authenticatorName(aaguid) ?? (deviceType === 'multiDevice' ? 'Synced passkey' : 'Security key');
}
