import { JsonWebKey, KeyObject, sign } from 'node:crypto';

export interface JwsHeader {
  alg: 'EdDSA' | 'ES256';
  typ: string;
  kid: string;
  /** The signer's public key (RFC 7515 §4.1.3), for a signature checked long after the key is gone (audit checkpoints). */
  jwk?: JsonWebKey;
}

/*
 * JWS compact serialisation (RFC 7515 §7.1) signed with node:crypto's one-shot sign() on a cached KeyObject.
 * jose's SignJWT does the same work through WebCrypto, which turns the KeyObject into a CryptoKey and queues the
 * signature on the libuv thread pool for every token: about ten times the cost of an Ed25519 signature itself.
 * Only the two algorithms the service signs with are accepted, so nothing here can produce "none" or an HMAC.
 */
const headerCache = new Map<string, string>();

export function signCompactJws(header: JwsHeader, payload: Record<string, unknown>, privateKey: KeyObject): string {
  const headerKey = `${header.alg}\u0000${header.typ}\u0000${header.kid}\u0000${header.jwk ? 'jwk' : ''}`;
  let encodedHeader = headerCache.get(headerKey);
  if (encodedHeader === undefined) {
    // A kid is its key's thumbprint, so the kid alone tells whether the cached header carries the same jwk.
    encodedHeader = Buffer.from(
      JSON.stringify({ alg: header.alg, typ: header.typ, kid: header.kid, ...(header.jwk ? { jwk: header.jwk } : {}) }),
    ).toString('base64url');
    if (headerCache.size > 16) headerCache.clear();
    headerCache.set(headerKey, encodedHeader);
  }
  const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const data = Buffer.from(signingInput);
  let signature: Buffer;
  switch (header.alg) {
    case 'EdDSA':
      if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('EdDSA needs an Ed25519 private key');
      signature = sign(null, data, privateKey);
      break;
    case 'ES256':
      if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
        throw new Error('ES256 needs a P-256 private key');
      // JWS wants the raw r||s form (RFC 7518 §3.4), not DER.
      signature = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      break;
    default:
      throw new Error(`signing algorithm ${String((header as { alg: unknown }).alg)} is not allowed`);
  }
  return `${signingInput}.${signature.toString('base64url')}`;
}
