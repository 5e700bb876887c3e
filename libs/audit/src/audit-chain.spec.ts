import { canonicalJson, chainHash, ChainChecker, ChainLink, GENESIS_HASH, PRUNED_EVENT, StoredLink } from './audit-chain';

function chain(n: number, start = { seq: 0, hash: GENESIS_HASH }, type = (_seq: number) => 'login', details = (_seq: number): unknown => ({})): StoredLink[] {
  const out: StoredLink[] = [];
  let prev = start;
  for (let seq = start.seq + 1; seq <= start.seq + n; seq++) {
    const link: ChainLink = { seq, prevHash: prev.hash, id: `e${seq}`, occurredAt: 1000 + seq, type: type(seq), outcome: 'success', reason: null, actorType: 'user', actorId: 'alice', subjectType: null, subjectId: null, clientIp: '127.0.0.1', userAgent: null, details: details(seq) };
    const hash = chainHash(link);
    out.push({ ...link, hash });
    prev = { seq, hash };
  }
  return out;
}

const verdictOf = (events: StoredLink[], head?: { seq: number; hash: string }) => {
  const checker = new ChainChecker();
  for (const e of events) if (!checker.add(e)) break;
  return checker.finish(head);
};

describe('canonicalJson', () => {
  it('sorts keys at every depth and drops undefined members, so equal objects hash equally', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 'é' }], c: null }, u: undefined })).toBe('{"a":{"c":null,"d":[1,{"x":"é","y":2}]},"b":1}');
  });
});

describe('ChainChecker', () => {
  it('accepts an intact chain from genesis and reports its last link', () => {
    const events = chain(5);
    expect(verdictOf(events, { seq: 5, hash: events[4]!.hash! })).toEqual({ ok: true, events: 5, first: 1, last: { seq: 5, hash: events[4]!.hash } });
  });

  it('the hash covers every field: changing any one breaks it', () => {
    const [event] = chain(1);
    for (const [field, value] of Object.entries({ id: 'x', occurredAt: 1, type: 'x', outcome: 'failure', reason: 'x', actorType: 'cli', actorId: 'x', subjectType: 'x', subjectId: 'x', clientIp: 'x', userAgent: 'x', details: { a: 1 } })) {
      const verdict = verdictOf([{ ...event!, [field]: value }]);
      expect({ field, ok: verdict.ok }).toEqual({ field, ok: false });
    }
  });

  it('refuses a chain that starts after genesis without a checkpoint recording the pruned prefix', () => {
    const events = chain(6);
    expect(verdictOf(events.slice(3))).toMatchObject({ ok: false, broken: { seq: 3, problem: expect.stringContaining('no retention checkpoint') } });
  });

  it('accepts a pruned chain whose retention event records exactly where the prefix ended', () => {
    const throughHash = chain(3)[2]!.hash; // the first three links do not depend on what follows them
    const fixed = chain(6, undefined, (seq) => (seq === 6 ? PRUNED_EVENT : 'login'), (seq) => (seq === 6 ? { throughSeq: 3, throughHash } : {}));
    expect(verdictOf(fixed.slice(3))).toMatchObject({ ok: true, first: 4 });
    // Deleting one more than was pruned is caught.
    expect(verdictOf(fixed.slice(4))).toMatchObject({ ok: false, broken: { seq: 4 } });
  });

  it('names a gap, a foreign row without a place, and a head the chain does not reach', () => {
    const events = chain(5);
    expect(verdictOf([...events.slice(0, 2), ...events.slice(3)])).toMatchObject({ ok: false, broken: { eventId: 'e4', seq: 3, problem: expect.stringContaining('is missing') } });
    expect(verdictOf([{ ...events[0]!, seq: null }])).toMatchObject({ ok: false, broken: { eventId: 'e1', problem: expect.stringContaining('no place') } });
    expect(verdictOf(events.slice(0, 4), { seq: 5, hash: events[4]!.hash! })).toMatchObject({ ok: false, broken: { seq: 5 } });
    expect(verdictOf(events, { seq: 4, hash: events[3]!.hash! })).toMatchObject({ ok: false, broken: { seq: 5, problem: expect.stringContaining('not written by the service') } });
  });
});
