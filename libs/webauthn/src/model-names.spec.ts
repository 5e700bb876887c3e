import { defaultPasskeyLabel } from './model-names';

describe('default passkey labels', () => {
  it('names a known authenticator model, whatever the AAGUID case', () => {
    expect(defaultPasskeyLabel('FBFC3007-154E-4ECC-8C0B-6E020557D7BD', 'multiDevice')).toBe('Apple Passwords');
    expect(defaultPasskeyLabel('cb69481e-8ff7-4039-93ec-0a2729a154a8', 'singleDevice')).toBe('YubiKey 5 Series');
  });

  it('falls back to the kind of credential for an unknown model', () => {
    expect(defaultPasskeyLabel('00000000-0000-0000-0000-000000000000', 'multiDevice')).toBe('Synced passkey');
    expect(defaultPasskeyLabel('00000000-0000-0000-0000-000000000000', 'singleDevice')).toBe('Security key');
  });
});
