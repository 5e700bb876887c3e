import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/*
 * Invite tokens and client secrets are 256 random bits generated here, never chosen by people. Guessing one is
 * infeasible whatever the hash, so a single SHA-256 (rather than a slow password hash) is enough to keep a stolen
 * database from yielding usable secrets, and keeps the token endpoint fast.
 */
export function newSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(secret: string, expectedHash: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const expected = Buffer.from(expectedHash, 'hex');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
