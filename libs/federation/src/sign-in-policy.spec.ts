import { groupsFromProvider, normalizeGroups } from '@app/accounts';
import { parseGroupList } from '@app/config';
import { decideSignIn, SignInPolicy } from './sign-in-policy';

/** mulberry32: a small seeded generator, so a failing case is reproduced by its seed. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = [
  'airflow-admins',
  'Airflow-Admins',
  'AIRFLOW-ADMINS',
  'it-viewers',
  'ops',
  'Ops',
  'équipe-données',
  'データ',
  'a.b:c@d_e',
];
const SPACES = [' ', '\t', '\n', '\r', '\u00a0', '\u2003', '\u3000', '\ufeff'];
/** Claims no group name can be: inner whitespace, control and invisible characters, not strings at all. */
const JUNK: unknown[] = [
  'airflow admins',
  'ops\u0007',
  'o\u200bps',
  'airflow-admins\u0000',
  '',
  '   ',
  '-ops',
  42,
  null,
  { name: 'ops' },
  ['ops'],
];

function pick<T>(next: () => number, items: readonly T[]): T {
  return items[Math.floor(next() * items.length)]!;
}

function pad(next: () => number): string {
  return Array.from({ length: Math.floor(next() * 3) }, () => pick(next, SPACES)).join('');
}

/** The same group as a provider might spell it: whitespace around it, decomposed or composed Unicode. */
function respell(next: () => number, name: string): string {
  const form = next() < 0.5 ? name.normalize('NFD') : name.normalize('NFC');
  return `${pad(next)}${form}${pad(next)}`;
}

function randomClaim(next: () => number): unknown[] {
  const claim: unknown[] = [];
  for (let i = Math.floor(next() * 8); i > 0; i -= 1) {
    const roll = next();
    if (roll < 0.15) claim.push(pick(next, JUNK));
    else if (roll < 0.25 && claim.length > 0)
      claim.push(claim[Math.floor(next() * claim.length)]); // a duplicate
    else claim.push(respell(next, pick(next, NAMES)));
  }
  return claim;
}

/** An environment list as an operator might write it (spaces after commas, tabs), parsed like at start-up. */
function randomPolicy(next: () => number): SignInPolicy {
  const list = () =>
    NAMES.filter(() => next() < 0.3)
      .map((n) => respell(next, n))
      .join(',');
  const problems: string[] = [];
  const allowed = next() < 0.3 ? undefined : list();
  const required = next() < 0.2 ? '*' : list() || 'ops';
  const policy = {
    allowedGroups: allowed === undefined ? null : parseGroupList('OIDC_ALLOWED_GROUPS', allowed, problems),
    passkeyRequiredGroups: parseGroupList('FEDERATION_PASSKEY_REQUIRED_GROUPS', required, problems, true),
  };
  expect(problems).toEqual([]);
  if (policy.allowedGroups?.length === 0) policy.allowedGroups = null; // as parseOidcConfig: an empty list is unset
  return policy;
}

describe('the sign-in decision and the stored groups are one list', () => {
  const RUNS = 2000;

  it('for random group claims and settings, the decision on the token equals the decision on what is stored', () => {
    for (let seed = 1; seed <= RUNS; seed += 1) {
      const next = generator(seed);
      const policy = randomPolicy(next);
      const claim = randomClaim(next);
      const { groups } = groupsFromProvider(claim);
      // What linkFederated stores, read back from the JSON column; the token and Airflow's role use this list.
      const stored = JSON.parse(JSON.stringify(normalizeGroups(groups))) as string[];
      const context = `seed ${seed}: claim ${JSON.stringify(claim)}, policy ${JSON.stringify(policy)}`;
      expect({ context, stored }).toEqual({ context, stored: groups });
      expect({ context, decision: decideSignIn(policy, stored) }).toEqual({
        context,
        decision: decideSignIn(policy, groups),
      });
    }
  });

  it('a group spelled with whitespace, decomposed Unicode or twice gets the decision of its plain spelling', () => {
    for (let seed = 1; seed <= RUNS; seed += 1) {
      const next = generator(seed);
      const policy = randomPolicy(next);
      const plain = NAMES.filter(() => next() < 0.3);
      const respelled = [
        ...plain.map((n) => respell(next, n)),
        ...plain.filter(() => next() < 0.3).map((n) => respell(next, n)),
      ];
      const context = `seed ${seed}: ${JSON.stringify(respelled)} vs ${JSON.stringify(plain)}, policy ${JSON.stringify(policy)}`;
      expect({ context, groups: groupsFromProvider(respelled).groups }).toEqual({
        context,
        groups: groupsFromProvider(plain).groups,
      });
      expect({ context, decision: decideSignIn(policy, groupsFromProvider(respelled).groups) }).toEqual({
        context,
        decision: decideSignIn(policy, groupsFromProvider(plain).groups),
      });
    }
  });

  it('a claim naming a passkey-required group in any spelling never skips the passkey', () => {
    const policy = {
      allowedGroups: null,
      passkeyRequiredGroups: parseGroupList('FEDERATION_PASSKEY_REQUIRED_GROUPS', ' airflow-admins ', []),
    };
    for (const spelling of [' airflow-admins', 'airflow-admins\t', '\u00a0airflow-admins\n', 'airflow-admins']) {
      expect(decideSignIn(policy, groupsFromProvider(['it-viewers', spelling]).groups)).toEqual({
        allowed: true,
        passkeyRequired: true,
      });
    }
    // Another case is another group, for the passkey rule and for Airflow's role_mapping alike: no admin role either.
    expect(groupsFromProvider(['AIRFLOW-ADMINS']).groups).toEqual(['AIRFLOW-ADMINS']);
    expect(decideSignIn(policy, ['AIRFLOW-ADMINS']).passkeyRequired).toBe(false);
  });

  it('a name the rule refuses is in no decision and never stored, and is counted', () => {
    const policy = { allowedGroups: ['ops'], passkeyRequiredGroups: ['ops'] };
    const { groups, ignored } = groupsFromProvider(['op s', 'ops\u0007', 7, 'it-viewers']);
    expect({ groups, ignored }).toEqual({ groups: ['it-viewers'], ignored: 3 });
    expect(decideSignIn(policy, groups)).toEqual({ allowed: false, passkeyRequired: false });
  });
});
