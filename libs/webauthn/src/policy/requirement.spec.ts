import type { AuthenticatorPolicyRule } from '@app/config';
import { CERTIFIED_LEVELS } from '@app/config';
import { levelRank, NO_REQUIREMENT, Requirement, requirementFor, violation } from './requirement';

const A = 'aaaaaaaa-0000-0000-0000-000000000001';
const B = 'bbbbbbbb-0000-0000-0000-000000000002';
const C = 'cccccccc-0000-0000-0000-000000000003';

/** Small seeded generator (mulberry32), so a failing case can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomRule(r: () => number): AuthenticatorPolicyRule {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const rule: AuthenticatorPolicyRule = { groups: [pick(['admins', 'ops', 'viewers', '*'])] };
  if (r() < 0.4) rule.attestation = 'required';
  if (r() < 0.4) rule.aaguids = [A, B, C].filter(() => r() < 0.6);
  if (rule.aaguids?.length === 0) delete rule.aaguids;
  if (r() < 0.4) rule.deviceBound = r() < 0.7;
  if (r() < 0.3) rule.userVerification = 'required';
  if (r() < 0.3) rule.certifiedLevel = pick(CERTIFIED_LEVELS);
  return rule;
}

/** `a` asks at least everything `b` asks. */
function atLeastAsStrict(a: Requirement, b: Requirement): boolean {
  return (
    (a.attestation || !b.attestation) &&
    (a.deviceBound || !b.deviceBound) &&
    (a.userVerification || !b.userVerification) &&
    levelRank(a.certifiedLevel) >= levelRank(b.certifiedLevel) &&
    (b.aaguids === null || (a.aaguids !== null && a.aaguids.every((x) => b.aaguids!.includes(x))))
  );
}

describe('requirementFor: the strictest combination of a person’s rules', () => {
  it('applies only the rules naming one of their groups (or *)', () => {
    const rules: AuthenticatorPolicyRule[] = [
      { groups: ['admins'], deviceBound: true },
      { groups: ['ops'], certifiedLevel: 'L2', attestation: 'required' },
    ];
    expect(requirementFor(rules, ['viewers'])).toEqual(NO_REQUIREMENT);
    expect(requirementFor(rules, ['admins'])).toMatchObject({ deviceBound: true, attestation: false, rules: 1 });
    expect(requirementFor([...rules, { groups: ['*'], userVerification: 'required' }], ['x'])).toMatchObject({
      userVerification: true,
      rules: 1,
    });
  });

  it('combines several rules: every flag, the highest level, only the models every list allows', () => {
    const req = requirementFor(
      [
        { groups: ['admins'], aaguids: [A, B], certifiedLevel: 'L1', attestation: 'required' },
        { groups: ['ops'], aaguids: [B, C], certifiedLevel: 'L2plus', deviceBound: true },
      ],
      ['admins', 'ops'],
    );
    expect(req).toEqual({
      attestation: true,
      aaguids: [B],
      deviceBound: true,
      userVerification: false,
      certifiedLevel: 'L2plus',
      rules: 2,
    });
  });

  it('property: one more group never makes the requirement weaker, and rule order does not matter', () => {
    const r = random(20261);
    for (let run = 0; run < 500; run++) {
      const rules = Array.from({ length: 1 + Math.floor(r() * 5) }, () => randomRule(r));
      const groups = ['admins', 'ops', 'viewers'].filter(() => r() < 0.5);
      const base = requirementFor(rules, groups);
      const more = requirementFor(rules, [...groups, 'admins', 'ops']);
      expect(atLeastAsStrict(more, base)).toBe(true);
      const reversed = requirementFor([...rules].reverse(), groups);
      expect({ ...reversed, aaguids: reversed.aaguids?.slice().sort() ?? null }).toEqual({
        ...base,
        aaguids: base.aaguids?.slice().sort() ?? null,
      });
    }
  });
});

describe('violation', () => {
  const name = (a: string) => (a === A ? 'Key A' : 'Key B');
  const strict = requirementFor(
    [{ groups: ['admins'], aaguids: [A], deviceBound: true, certifiedLevel: 'L2' }],
    ['admins'],
  );
  const facts = { aaguid: A, attested: true, backupEligible: false, userVerified: true };
  const model = { name: 'Key A', certifiedLevel: 'L2' as const, compromise: null };

  it('allows what meets every rule', () => {
    expect(violation(strict, facts, model, name)).toBeNull();
  });

  it('names the first broken rule', () => {
    expect(violation(strict, { ...facts, backupEligible: true }, model, name)?.reason).toBe('synced_passkey');
    expect(violation(strict, { ...facts, attested: false }, model, name)?.reason).toBe('attestation_missing');
    expect(violation(strict, { ...facts, aaguid: B }, model, name)?.message).toMatch(
      /approved security key model \(Key A\); this one is Key B/,
    );
    expect(violation(strict, facts, { ...model, certifiedLevel: 'L1' }, name)?.reason).toBe('certification_level');
  });

  it('refuses a compromised model even for a person without rules', () => {
    const found = violation(NO_REQUIREMENT, facts, { ...model, compromise: 'ATTESTATION_KEY_COMPROMISE' }, name);
    expect(found).toEqual({
      reason: 'authenticator_compromised',
      message: 'this security key model (Key A) is reported compromised (FIDO status ATTESTATION_KEY_COMPROMISE)',
    });
  });
});
