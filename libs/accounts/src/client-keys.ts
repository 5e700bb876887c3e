import { createPublicKey } from 'node:crypto';
import { calculateJwkThumbprint } from 'jose';
import { AppError, ErrorCode } from '@app/errors';

/**
 * A client's registered public keys (RFC 7517 JWKS), as stored: only the public members of each key, each with its
 * `kid` (the RFC 7638 thumbprint when the client gave none) and the algorithms it may sign client assertions with.
 */
export interface ClientJwks {
  keys: ClientJwk[];
}

export type ClientJwk = {
  kty: 'OKP' | 'EC' | 'RSA';
  kid: string;
  /** Present when the registration pinned one algorithm; otherwise every algorithm of `algorithmsFor` is allowed. */
  alg?: string;
  crv?: string;
  x?: string;
  y?: string;
  n?: string;
  e?: string;
};

export const CLIENT_KEYS_MAX = 3;
const RSA_MIN_BITS = 2048;
/** Members that only a private (or symmetric) key has: such a key is refused, never stored. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * The signature algorithms a key of this type may use (never `none`, never an HMAC): the allowlist the assertion's
 * `alg` is checked against, so a key is never used with an algorithm of another family (RFC 8725 §3.1).
 */
export function algorithmsFor(key: ClientJwk): string[] {
  const family = key.kty === 'OKP' ? ['EdDSA', 'Ed25519'] : key.kty === 'EC' ? ['ES256'] : ['RS256', 'PS256'];
  return key.alg ? family.filter((alg) => alg === key.alg) : family;
}

/** Every algorithm some registered key allows, for discovery's `token_endpoint_auth_signing_alg_values_supported`. */
export const CLIENT_ASSERTION_ALGORITHMS = ['EdDSA', 'Ed25519', 'ES256', 'RS256', 'PS256'];

function refuse(message: string): AppError {
  return new AppError(ErrorCode.InvalidRequest, `jwks: ${message}`, 'invalid_client_keys');
}

const isText = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length < 2048;

/** One key of the set: public, of an allowed type and size, parsed by node:crypto to prove it is a real key. */
async function publicKeyOf(input: unknown, index: number): Promise<ClientJwk> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw refuse(`key ${index} is not a JWK`);
  const jwk = input as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => member in jwk))
    throw refuse(`key ${index} contains private key material: register only the public key`);
  if (jwk.use !== undefined && jwk.use !== 'sig') throw refuse(`key ${index} must be a signing key (use "sig")`);
  let key: ClientJwk;
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && isText(jwk.x))
    key = { kty: 'OKP', crv: 'Ed25519', x: jwk.x, kid: '' };
  else if (jwk.kty === 'EC' && jwk.crv === 'P-256' && isText(jwk.x) && isText(jwk.y))
    key = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid: '' };
  else if (jwk.kty === 'RSA' && isText(jwk.n) && isText(jwk.e)) key = { kty: 'RSA', n: jwk.n, e: jwk.e, kid: '' };
  else throw refuse(`key ${index} must be an Ed25519 (OKP), P-256 (EC) or RSA public key`);
  let parsed;
  try {
    parsed = createPublicKey({ key, format: 'jwk' });
  } catch {
    throw refuse(`key ${index} is not a valid ${key.kty} public key`);
  }
  if (key.kty === 'RSA' && (parsed.asymmetricKeyDetails?.modulusLength ?? 0) < RSA_MIN_BITS)
    throw refuse(`key ${index}: RSA keys must have at least ${RSA_MIN_BITS} bits`);
  if (jwk.alg !== undefined) {
    if (typeof jwk.alg !== 'string' || !algorithmsFor(key).includes(jwk.alg))
      throw refuse(`key ${index}: alg must be one of ${algorithmsFor(key).join(', ')} for this key type`);
    key.alg = jwk.alg;
  }
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || !/^[\x21-\x7E]{1,128}$/.test(jwk.kid)))
    throw refuse(`key ${index}: kid must be 1-128 printable characters`);
  key.kid = jwk.kid ?? (await calculateJwkThumbprint(key, 'sha256'));
  return key;
}

/**
 * Reads a client's key set where it enters (admin API, CLI): 1-3 public signing keys with distinct kids. What is
 * stored is this normalised copy, so the verifier decides on exactly what was checked here.
 */
export async function parseClientJwks(input: unknown): Promise<ClientJwks> {
  const keys = (input as { keys?: unknown } | null)?.keys;
  if (typeof input !== 'object' || input === null || !Array.isArray(keys))
    throw refuse('must be a JWK Set: {"keys": [...]}');
  if (keys.length < 1 || keys.length > CLIENT_KEYS_MAX) throw refuse(`must hold 1 to ${CLIENT_KEYS_MAX} keys`);
  const parsed = await Promise.all(keys.map((key, i) => publicKeyOf(key, i)));
  if (new Set(parsed.map((key) => key.kid)).size !== parsed.length) throw refuse('each key needs its own kid');
  return { keys: parsed };
}
