import { createHash, createPublicKey, JsonWebKey, verify } from 'node:crypto';
import { canonicalJson } from './canonical-json';

/*
 * Signed retention checkpoints. When the retention job deletes the chain's prefix, the `audit.pruned` event records
 * where the remaining chain starts ({throughSeq, throughHash, ...}) and a compact JWS over exactly those fields by
 * the service's active token signing key. Without the signature, anyone with write access to the database could
 * delete old events and write a checkpoint (and rehash the rest) of their own; with it, they also need a private
 * key only the service holds (sealed under KEY_ENCRYPTION_KEY).
 *
 * The JWS header is {alg, typ: "audit-checkpoint+jws", kid, jwk}: an explicit type (RFC 8725 §3.11) the access
 * token verifiers never accept (they require at+jwt), and the signer's public key, so an export carries the keys
 * needed to check it offline even after the key was retired and erased. The carried key is never trusted by itself:
 * the kid must be its RFC 7638 thumbprint, and the verifier's `CheckpointTrust` decides whether that kid is one it
 * relies on (online: a key in the service's key table, sealed under its KEY_ENCRYPTION_KEY; offline: any carried
 * key, or only pinned kids with --trusted-kids).
 *
 * Like audit-chain.ts, this file imports nothing but node:crypto (and the canonical JSON both use).
 */

export const CHECKPOINT_TYP = 'audit-checkpoint+jws';

/** The field of the `audit.pruned` details that holds the JWS; every other field is what it signs. */
export const SIGNATURE_FIELD = 'signature';

/** Signs a checkpoint's fields (synchronously: the signer is fetched before the pruning transaction starts). */
export type CheckpointSign = (fields: Record<string, unknown>) => string;

/**
 * The service's keys as the audit trail needs them; implemented by the token key store (libs/tokens), which this
 * library cannot import (it records the key store's own events). Provided under this class as its DI token.
 */
export abstract class CheckpointKeys {
  /** A signer bound to the active signing key. */
  abstract checkpointSigner(): Promise<CheckpointSign>;
  /** kid -> public JWK of every key this service created itself (including retired and erased ones). */
  abstract trustedCheckpointKeys(): Promise<Map<string, JsonWebKey>>;
}

/** Which key to verify a checkpoint with: `carried` is the checkpoint's own key (its thumbprint is the kid). */
export type CheckpointTrust = (kid: string, carried: JsonWebKey) => JsonWebKey | null;

/** Online: only the keys the service holds. */
export function serviceKeysTrust(keys: Map<string, JsonWebKey>): CheckpointTrust {
  return (kid) => keys.get(kid) ?? null;
}

/** Offline: the keys the export carries; with `pinned`, only those kids (e.g. from the published JWKS). */
export function carriedKeysTrust(pinned?: ReadonlySet<string>): CheckpointTrust {
  return (kid, carried) => (!pinned || pinned.has(kid) ? carried : null);
}

/** The fields a checkpoint's signature covers: its details without the signature. */
export function signedFields(details: Record<string, unknown>): Record<string, unknown> {
  const { [SIGNATURE_FIELD]: _signature, ...fields } = details;
  return fields;
}

/** RFC 7638 JWK thumbprint (SHA-256) of an OKP or EC public key: the service's kid. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members =
    jwk.kty === 'OKP' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  const json = `{${Object.entries(members)
    .map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`)
    .join(',')}}`;
  return createHash('sha256').update(json).digest('base64url');
}

export type CheckpointCheck = { ok: true; kid: string } | { ok: false; problem: string };

/** Whether a checkpoint's details carry a valid signature, by a key `trust` relies on, over exactly these fields. */
export function checkCheckpoint(details: Record<string, unknown>, trust: CheckpointTrust): CheckpointCheck {
  const jws = details[SIGNATURE_FIELD];
  if (typeof jws !== 'string') return { ok: false, problem: 'is unsigned' };
  const parts = jws.split('.');
  if (parts.length !== 3) return { ok: false, problem: 'carries a signature that is not a compact JWS' };
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  let header: { alg?: unknown; typ?: unknown; kid?: unknown; jwk?: unknown };
  let payload: unknown;
  try {
    header = JSON.parse(Buffer.from(encodedHeader, 'base64url').toString('utf8')) as typeof header;
    payload = JSON.parse(Buffer.from(encodedPayload, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, problem: 'carries a signature that is not a compact JWS' };
  }
  if (header.typ !== CHECKPOINT_TYP)
    return { ok: false, problem: `carries a signature of type ${String(header.typ)}, not ${CHECKPOINT_TYP}` };
  if (header.alg !== 'EdDSA' && header.alg !== 'ES256')
    return { ok: false, problem: `carries a signature with algorithm ${String(header.alg)}, which is not allowed` };
  const carried = header.jwk as JsonWebKey | undefined;
  if (
    typeof header.kid !== 'string' ||
    !carried ||
    typeof carried !== 'object' ||
    jwkThumbprint(carried) !== header.kid
  ) {
    return { ok: false, problem: "carries a signature whose kid is not its key's thumbprint" };
  }
  const kid = header.kid;
  const jwk = trust(kid, carried);
  if (!jwk) return { ok: false, problem: `is signed by key ${kid}, which is not a key trusted here` };
  let valid: boolean;
  try {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const data = Buffer.from(`${encodedHeader}.${encodedPayload}`);
    const signature = Buffer.from(encodedSignature, 'base64url');
    valid =
      header.alg === 'EdDSA'
        ? key.asymmetricKeyType === 'ed25519' && verify(null, data, key, signature)
        : key.asymmetricKeyType === 'ec' && verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, problem: `carries a signature that does not verify with key ${kid}` };
  if (canonicalJson(payload) !== canonicalJson(signedFields(details)))
    return { ok: false, problem: `was changed after it was signed (its fields differ from those key ${kid} signed)` };
  return { ok: true, kid };
}
