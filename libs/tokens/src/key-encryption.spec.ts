import { randomBytes } from 'node:crypto';
import { decryptPrivateKey, encryptPrivateKey, sealedWith, sealErasedKey } from './key-encryption';

describe('private key encryption at rest', () => {
  const kek = randomBytes(32);
  const pem = '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n';

  it('round-trips and never stores the plaintext', () => {
    const sealed = encryptPrivateKey(kek, 'kid-1', pem);
    expect(sealed).not.toContain('PRIVATE KEY');
    expect(decryptPrivateKey(kek, 'kid-1', sealed)).toBe(pem);
  });

  it('refuses another key-encryption key', () => {
    const sealed = encryptPrivateKey(kek, 'kid-1', pem);
    expect(() => decryptPrivateKey(randomBytes(32), 'kid-1', sealed)).toThrow(/KEY_ENCRYPTION_KEY/);
  });

  it('refuses a sealed key moved onto another kid', () => {
    const sealed = encryptPrivateKey(kek, 'kid-1', pem);
    expect(() => decryptPrivateKey(kek, 'kid-2', sealed)).toThrow(/cannot be decrypted/);
  });

  it('refuses a tampered ciphertext', () => {
    const parts = encryptPrivateKey(kek, 'kid-1', pem).split('.');
    const body = Buffer.from(parts[3]!, 'base64url');
    body[0] = body[0]! ^ 1;
    parts[3] = body.toString('base64url');
    expect(() => decryptPrivateKey(kek, 'kid-1', parts.join('.'))).toThrow();
  });

  it("an erased key's marker shows its row was sealed for that kid under this key-encryption key, and nothing else does", () => {
    const marker = sealErasedKey(kek, 'kid-1');
    expect(sealedWith(kek, 'kid-1', marker)).toBe(true);
    expect(sealedWith(kek, 'kid-2', marker)).toBe(false);
    expect(sealedWith(randomBytes(32), 'kid-1', marker)).toBe(false);
    expect(sealedWith(kek, 'kid-1', '')).toBe(false);
    expect(sealedWith(kek, 'kid-1', encryptPrivateKey(kek, 'kid-1', pem))).toBe(true);
  });
});
