import { defaultPasskeyLabel } from './aaguid-names';

describe('default passkey labels', () => {
  it('names a known authenticator model', () => {
    expect(defaultPasskeyLabel('FBFC3007-154E-4ECC-8C0B-6E020557D7BD', 'multiDevice')).toBe('iCloud Keychain');
  });

  it('falls back to the kind of credential for an unknown model', () => {
    expect(defaultPasskeyLabel('00000000-0000-0000-0000-000000000000', 'multiDevice')).toBe('Synced passkey');
    expect(defaultPasskeyLabel('00000000-0000-0000-0000-000000000000', 'singleDevice')).toBe('Security key');
  });
});
