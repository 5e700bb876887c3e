import { createPublicKey, generateKeyPairSync, KeyObject } from 'node:crypto';
import { signCompactJws } from '../../tokens/src/compact-jws';
import {
  canonicalJson,
  chainHash,
  ChainChecker,
  ChainLink,
  GENESIS_HASH,
  PRUNED_EVENT,
  StoredLink,
} from './audit-chain';
import { CHECKPOINT_TYP, CheckpointTrust, carriedKeysTrust, jwkThumbprint, serviceKeysTrust } from './audit-checkpoint';

function chain(
  n: number,
  start = { seq: 0, hash: GENESIS_HASH },
  type = (_seq: number) => 'login',
  details = (_seq: number): unknown => ({}),
): StoredLink[] {
  const out: StoredLink[] = [];
  let prev = start;
  for (let seq = start.seq + 1; seq <= start.seq + n; seq++) {
    const link: ChainLink = {
      seq,
      prevHash: prev.hash,
      id: `e${seq}`,
      occurredAt: 1000 + seq,
      type: type(seq),
      outcome: 'success',
      reason: null,
      actorType: 'user',
      actorId: 'alice',
      subjectType: null,
      subjectId: null,
      clientIp: '127.0.0.1',
      userAgent: null,
      details: details(seq),
    };
    const hash = chainHash(link);
    out.push({ ...link, hash });
    prev = { seq, hash };
  }
  return out;
}

/** A signing key as the service's key store has it: kid = RFC 7638 thumbprint. */
function signingKey(): { kid: string; privateKey: KeyObject; jwk: ReturnType<KeyObject['export']> & object } {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = createPublicKey(privateKey).export({ format: 'jwk' });
  return { kid: jwkThumbprint(jwk), privateKey, jwk };
}
const serviceKey = signingKey();
const sign = (fields: Record<string, unknown>, key = serviceKey) =>
  signCompactJws({ alg: 'EdDSA', typ: CHECKPOINT_TYP, kid: key.kid, jwk: key.jwk }, fields, key.privateKey);
const serviceTrust = serviceKeysTrust(new Map([[serviceKey.kid, serviceKey.jwk]]));

const verdictOf = (
  events: StoredLink[],
  head?: { seq: number; hash: string },
  trust: CheckpointTrust = serviceTrust,
) => {
  const checker = new ChainChecker(trust);
  for (const e of events) if (!checker.add(e)) break;
  return checker.finish(head);
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members, so equal objects hash equally', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 'é' }], c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":[1,{"x":"é","y":2}]},"b":1}',
    );
  });
});

describe('ChainChecker', () => {
  it('accepts an intact chain from genesis and reports its last link', () => {
    const events = chain(5);
    expect(verdictOf(events, { seq: 5, hash: events[4]!.hash! })).toEqual({
      ok: true,
      events: 5,
      first: 1,
      last: { seq: 5, hash: events[4]!.hash },
      checkpoint: null,
    });
  });

  it('the hash covers every field: changing any one breaks it', () => {
    const [event] = chain(1);
    for (const [field, value] of Object.entries({
      id: 'x',
      occurredAt: 1,
      type: 'x',
      outcome: 'failure',
      reason: 'x',
      actorType: 'cli',
      actorId: 'x',
      subjectType: 'x',
      subjectId: 'x',
      clientIp: 'x',
      userAgent: 'x',
      details: { a: 1 },
    })) {
      const verdict = verdictOf([{ ...event!, [field]: value }]);
      expect({ field, ok: verdict.ok }).toEqual({ field, ok: false });
    }
  });

  it('refuses a chain that starts after genesis without a checkpoint recording the pruned prefix', () => {
    const events = chain(6);
    expect(verdictOf(events.slice(3))).toMatchObject({
      ok: false,
      broken: { seq: 3, problem: expect.stringContaining('no retention checkpoint') },
    });
  });

  /** Six events, the first three pruned; the retention event (e6) carries `checkpoint(throughHash)` as details. */
  const pruned = (checkpoint: (throughHash: string) => Record<string, unknown>) => {
    const throughHash = chain(3)[2]!.hash!; // the first three links do not depend on what follows them
    return chain(
      6,
      undefined,
      (seq) => (seq === 6 ? PRUNED_EVENT : 'login'),
      (seq) => (seq === 6 ? checkpoint(throughHash) : {}),
    ).slice(3);
  };
  const signedCheckpoint = (throughHash: string, key = serviceKey) => {
    const fields = { throughSeq: 3, throughHash, deleted: 3, before: '2026-01-01T00:00:00.000Z', retentionDays: 400 };
    return { ...fields, signature: sign(fields, key) };
  };

  it('accepts a pruned chain whose signed retention event records exactly where the prefix ended', () => {
    const events = pruned((h) => signedCheckpoint(h));
    expect(verdictOf(events)).toMatchObject({
      ok: true,
      first: 4,
      checkpoint: { eventId: 'e6', seq: 6, kid: serviceKey.kid },
    });
    // Deleting one more than was pruned is caught.
    expect(verdictOf(events.slice(1))).toMatchObject({ ok: false, broken: { seq: 4 } });
  });

  it('refuses, naming the retention event, a checkpoint that is unsigned, signed by a stranger, or edited after signing', () => {
    const named = (problem: string) => ({
      ok: false,
      broken: { eventId: 'e6', seq: 6, problem: expect.stringContaining(problem) },
    });
    expect(verdictOf(pruned((throughHash) => ({ throughSeq: 3, throughHash })))).toMatchObject(named('is unsigned'));
    const stranger = signingKey();
    expect(verdictOf(pruned((h) => signedCheckpoint(h, stranger)))).toMatchObject(
      named(`signed by key ${stranger.kid}, which is not a key trusted here`),
    );
    expect(verdictOf(pruned((h) => ({ ...signedCheckpoint(h), deleted: 2 })))).toMatchObject(
      named('was changed after it was signed'),
    );
    // A stranger's signature carrying the service's kid does not verify with the service's key.
    const borrowed = (h: string) => {
      const fields = { throughSeq: 3, throughHash: h };
      return {
        ...fields,
        signature: signCompactJws(
          { alg: 'EdDSA', typ: CHECKPOINT_TYP, kid: serviceKey.kid, jwk: serviceKey.jwk },
          fields,
          stranger.privateKey,
        ),
      };
    };
    expect(verdictOf(pruned(borrowed))).toMatchObject(named('does not verify'));
    // An access token's type is not a checkpoint's.
    const wrongType = (h: string) => ({
      throughSeq: 3,
      throughHash: h,
      signature: signCompactJws(
        { alg: 'EdDSA', typ: 'at+jwt', kid: serviceKey.kid, jwk: serviceKey.jwk },
        { throughSeq: 3, throughHash: h },
        serviceKey.privateKey,
      ),
    });
    expect(verdictOf(pruned(wrongType))).toMatchObject(named('type at+jwt'));
  });

  it('offline, relies on the key the checkpoint carries, or only on pinned kids', () => {
    const stranger = signingKey();
    const events = pruned((h) => signedCheckpoint(h, stranger));
    expect(verdictOf(events, undefined, carriedKeysTrust())).toMatchObject({
      ok: true,
      checkpoint: { kid: stranger.kid },
    });
    expect(verdictOf(events, undefined, carriedKeysTrust(new Set([serviceKey.kid])))).toMatchObject({
      ok: false,
      broken: { eventId: 'e6', problem: expect.stringContaining('not a key trusted here') },
    });
    expect(verdictOf(events, undefined, carriedKeysTrust(new Set([stranger.kid])))).toMatchObject({ ok: true });
  });

  it('names a gap, a foreign row without a place, and a head the chain does not reach', () => {
    const events = chain(5);
    expect(verdictOf([...events.slice(0, 2), ...events.slice(3)])).toMatchObject({
      ok: false,
      broken: { eventId: 'e4', seq: 3, problem: expect.stringContaining('is missing') },
    });
    expect(verdictOf([{ ...events[0]!, seq: null }])).toMatchObject({
      ok: false,
      broken: { eventId: 'e1', problem: expect.stringContaining('no place') },
    });
    expect(verdictOf(events.slice(0, 4), { seq: 5, hash: events[4]!.hash! })).toMatchObject({
      ok: false,
      broken: { seq: 5 },
    });
    expect(verdictOf(events, { seq: 4, hash: events[3]!.hash! })).toMatchObject({
      ok: false,
      broken: { seq: 5, problem: expect.stringContaining('not written by the service') },
    });
  });
});
