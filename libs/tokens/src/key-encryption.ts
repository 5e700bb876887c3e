import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';

/**
 * Private signing keys at rest: AES-256-GCM with a fresh 96-bit nonce, the key id bound as associated data so an
 * encrypted key cannot be swapped onto another key's row unnoticed.
 */
export function encryptPrivateKey(kek: Buffer, kid: string, pkcs8Pem: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(pkcs8Pem, 'utf8'), cipher.final()]);
  return [
    VERSION,
    iv.toString('base64url'),
    cipher.getAuthTag().toString('base64url'),
    ciphertext.toString('base64url'),
  ].join('.');
}

export function decryptPrivateKey(kek: Buffer, kid: string, sealed: string): string {
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== VERSION || !iv || !tag || !ciphertext)
    throw new Error(`signing key ${kid}: unknown encryption format`);
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`signing key ${kid} cannot be decrypted: KEY_ENCRYPTION_KEY is not the key it was stored with`);
  }
}

/**
 * What an erased key's row holds instead of its private key: a marker sealed like a key, so the row still shows it
 * was written by a holder of KEY_ENCRYPTION_KEY (its public key stays trusted for old audit checkpoints, and a key
 * row inserted into the database by anyone else is not).
 */
const ERASED = 'erased';

export function sealErasedKey(kek: Buffer, kid: string): string {
  return encryptPrivateKey(kek, kid, ERASED);
}

/** Whether the row's sealed value (a private key, or the erasure marker) was sealed for this kid under this KEK. */
export function sealedWith(kek: Buffer, kid: string, sealed: string): boolean {
  try {
    decryptPrivateKey(kek, kid, sealed);
    return true;
  } catch {
    return false;
  }
}
