import { CheckpointSign, CheckpointTrust, checkCheckpoint } from './audit-checkpoint';

/*
 * Signed chain heads: the newest event's position and hash, signed like a retention checkpoint (same JWS type and
 * key, see audit-checkpoint.ts) and meant to be kept OUTSIDE the database: printed by `audit head`, written to the
 * service's log every AUDIT_HEAD_LOG_SECONDS. Whoever can write to the database can delete the newest events and
 * move audit_chain_head back, and the chain alone still looks intact; a head kept elsewhere says how far the trail
 * reached, and `audit verify --head` fails when the trail no longer contains it.
 *
 * The signed fields carry `kind: "audit-head"`, which no retention checkpoint has, so neither can pass for the other.
 */

export const HEAD_KIND = 'audit-head' as const;

/** Where the chain ended when the head was taken. */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

/** A head as printed and logged: its fields, and a compact JWS over exactly those fields. */
export interface SignedHead extends ChainAnchor {
  kind: typeof HEAD_KIND;
  /** When the event at `seq` was written (null for an empty trail). */
  occurredAt: string | null;
  signedAt: string;
  signature: string;
}

export function signHead(anchor: ChainAnchor, occurredAt: Date | null, sign: CheckpointSign, now: Date): SignedHead {
  const fields = {
    kind: HEAD_KIND,
    seq: anchor.seq,
    hash: anchor.hash,
    occurredAt: occurredAt?.toISOString() ?? null,
    signedAt: now.toISOString(),
  };
  return { ...fields, signature: sign(fields) };
}

export type HeadCheck = { ok: true; head: ChainAnchor } | { ok: false; problem: string };

/** The fields a bare JWS signs (so a head copied from a log line's `signature` alone is enough). */
function fieldsOfJws(jws: string): Record<string, unknown> | null {
  try {
    const payload = JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    return payload && typeof payload === 'object' && !Array.isArray(payload)
      ? { ...(payload as Record<string, unknown>), signature: jws }
      : null;
  } catch {
    return null;
  }
}

/**
 * Reads a head kept outside: the JSON `audit head --json` prints (or the log carries), or just its signature. It is
 * relied on only when its signature verifies with a key `trust` relies on, over exactly the fields it shows.
 */
export function readSignedHead(input: unknown, trust: CheckpointTrust): HeadCheck {
  const details =
    typeof input === 'string'
      ? fieldsOfJws(input.trim())
      : input && typeof input === 'object' && !Array.isArray(input)
        ? (input as Record<string, unknown>)
        : null;
  if (!details)
    return {
      ok: false,
      problem: 'is not a signed audit head (expected the JSON of "audit head --json" or its signature)',
    };
  if (details.kind !== HEAD_KIND)
    return { ok: false, problem: 'is not a signed audit head (its kind is not audit-head)' };
  const { seq, hash } = details;
  if (
    typeof seq !== 'number' ||
    !Number.isSafeInteger(seq) ||
    seq < 0 ||
    typeof hash !== 'string' ||
    !/^[0-9a-f]{64}$/.test(hash)
  ) {
    return { ok: false, problem: 'is not a signed audit head (seq or hash is malformed)' };
  }
  const signed = checkCheckpoint(details, trust);
  if (!signed.ok) return { ok: false, problem: signed.problem };
  return { ok: true, head: { seq, hash } };
}

/**
 * A head as kept in a file or passed to the API: the JSON `audit head --json` prints, the log line that carries it
 * (`... audit head {...}`), or its bare signature. Anything else is returned as is, for readSignedHead to refuse.
 */
export function parseHeadText(text: string): unknown {
  const trimmed = text.trim();
  const json = trimmed.indexOf('{');
  if (json < 0) return trimmed;
  try {
    return JSON.parse(trimmed.slice(json)) as unknown;
  } catch {
    return trimmed;
  }
}
