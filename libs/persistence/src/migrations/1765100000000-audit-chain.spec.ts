import { chainHash, ChainLink, GENESIS_HASH } from '../../../audit/src/audit-chain';
import { chainHashV1, ChainLinkV1 } from './1765100000000-audit-chain';

/** Rows as the migration reads them back: nulls, nested and unordered details, non-ASCII text, numbers. */
const samples: [ChainLinkV1, ChainLinkV1] = [
  {
    seq: 1,
    prevHash: GENESIS_HASH,
    id: 'a2f9c0de-0000-4000-8000-000000000001',
    occurredAt: 1765100000000,
    type: 'login',
    outcome: 'success',
    reason: null,
    actorType: 'user',
    actorId: 'alice',
    subjectType: null,
    subjectId: null,
    clientIp: '127.0.0.1',
    userAgent: 'Mozilla/5.0',
    details: {},
  },
  {
    seq: 2,
    prevHash: 'f'.repeat(64),
    id: 'a2f9c0de-0000-4000-8000-000000000002',
    occurredAt: 1765100000123,
    type: 'passkey.registered',
    outcome: 'failure',
    reason: 'bad_signature',
    actorType: 'service_account',
    actorId: 'svc-Ünïcødé-✓',
    subjectType: 'user',
    subjectId: 'bob',
    clientIp: '::1',
    userAgent: null,
    details: { z: [3, 'two', { y: null, b: true }], a: { nested: { k2: 1.5, k1: -0 } }, quote: 'say "hi"\n' },
  },
];

describe('the audit-chain migration hashes pre-existing rows with a frozen copy of the chain hash', () => {
  it.each(samples.map((s) => [s.type, s] as const))(
    'equals the live chainHash on a %s row (a change to the live hash must be noticed, not rewrite history)',
    (_type, sample) => {
      const live: ChainLink = sample;
      expect(chainHashV1(sample)).toBe(chainHash(live));
    },
  );

  it('still yields the version 1 hash it yielded when the migration was written (the copy itself is never edited)', () => {
    expect(chainHashV1(samples[0])).toBe('81b8e7937548fc8001f753e1a99a70fd45adce5fb42f8ce7a860f873264b1e96');
  });

  it('covers every field: a change to any one of them changes the hash', () => {
    const base = samples[1];
    const changed = (Object.keys(base) as (keyof ChainLinkV1)[]).map((key) =>
      chainHashV1({
        ...base,
        [key]: key === 'details' ? { other: 1 } : key === 'seq' || key === 'occurredAt' ? 7 : 'x',
      }),
    );
    expect(new Set([chainHashV1(base), ...changed]).size).toBe(changed.length + 1);
  });
});
