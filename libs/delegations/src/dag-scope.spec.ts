import {
  canonicalDagScope,
  dagIdMatches,
  dagScopeWithin,
  DagScopeError,
  formatDagScope,
  isDagScope,
  MAX_SCOPE_ITEMS,
  parseDagScope,
} from './dag-scope';

const within = (narrower: string, wider: string) => dagScopeWithin(parseDagScope(narrower), parseDagScope(wider));

describe('the dag scope grammar', () => {
  it('canonicalises: duplicates removed, ordered by action then selector, extra spaces dropped', () => {
    expect(
      canonicalDagScope('dag:clear:id=b  dag:read:tag=finance dag:trigger:id=finance_* dag:read:tag=finance'),
    ).toBe('dag:read:tag=finance dag:trigger:id=finance_* dag:clear:id=b');
  });

  it.each([
    ['', 'names no'],
    ['dag:write:id=x', 'action'],
    ['dag:read:name=x', 'not dag:'],
    ['sessions:read', 'not dag:'],
    ['dag:read:id=', 'glob'],
    ['dag:read:id=a[b]', 'glob'],
    ['dag:read:id=../x;drop', 'glob'],
    ['dag:read:tag=a*b', 'tag'],
    [`dag:read:id=${'a'.repeat(251)}`, 'glob'],
  ])('refuses %j with a reason', (text, words) => {
    expect(() => parseDagScope(text)).toThrow(DagScopeError);
    expect(() => parseDagScope(text)).toThrow(words);
  });

  it('caps the number of items and the length', () => {
    const many = Array.from({ length: MAX_SCOPE_ITEMS + 1 }, (_, i) => `dag:read:id=d${i}`).join(' ');
    expect(() => parseDagScope(many)).toThrow('more than');
    expect(() => parseDagScope('dag:read:id=a '.repeat(200))).toThrow('longer');
  });

  it('tells a dag scope from other scopes', () => {
    expect(isDagScope('dag:read:id=x')).toBe(true);
    expect(isDagScope('sessions:read')).toBe(false);
    expect(isDagScope(undefined)).toBe(false);
  });

  it('matches DAG ids by glob, with only * and ? special', () => {
    expect(dagIdMatches('finance_*', 'finance_daily')).toBe(true);
    expect(dagIdMatches('finance_*', 'marketing_daily')).toBe(false);
    expect(dagIdMatches('f?n', 'fin')).toBe(true);
    expect(dagIdMatches('a.b', 'axb')).toBe(false);
  });
});

describe('narrower than', () => {
  it('accepts a subset, a literal id inside a glob, and anything under id=* of the same action', () => {
    expect(within('dag:trigger:id=finance_*', 'dag:trigger:id=finance_* dag:read:tag=finance')).toBe(true);
    expect(within('dag:trigger:id=finance_daily', 'dag:trigger:id=finance_*')).toBe(true);
    expect(within('dag:read:tag=x dag:read:id=a*', 'dag:read:id=*')).toBe(true);
  });

  it('refuses what is wider or merely different: another action, a glob under a glob, a tag under an id glob', () => {
    expect(within('dag:clear:id=finance_daily', 'dag:trigger:id=finance_*')).toBe(false);
    expect(within('dag:trigger:id=finance_d*', 'dag:trigger:id=finance_*')).toBe(false);
    expect(within('dag:trigger:tag=finance', 'dag:trigger:id=finance_*')).toBe(false);
    expect(within('dag:trigger:id=*', 'dag:trigger:id=finance_*')).toBe(false);
    expect(within('dag:read:id=marketing_daily', 'dag:read:tag=finance')).toBe(false);
  });

  it('property: every random scope is within itself and within id=* of its actions; never within a scope of other actions', () => {
    let seed = 20;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const pick = <T>(xs: readonly T[]) => xs[random(xs.length)]!;
    for (let run = 0; run < 300; run += 1) {
      const items = Array.from({ length: 1 + random(5) }, () => {
        const action = pick(['read', 'trigger', 'clear'] as const);
        const selector = random(2)
          ? `id=${pick(['a', 'b_', 'c'])}${pick(['', '*', '?', 'x'])}`
          : `tag=${pick(['t', 'u'])}`;
        return `dag:${action}:${selector}`;
      });
      const scope = parseDagScope(items.join(' '));
      expect(canonicalDagScope(formatDagScope(scope))).toBe(formatDagScope(scope));
      expect(parseDagScope([...items].reverse().join(' '))).toEqual(scope);
      expect(dagScopeWithin(scope, scope)).toBe(true);
      const actions = [...new Set(scope.map((i) => i.action))];
      expect(dagScopeWithin(scope, parseDagScope(actions.map((a) => `dag:${a}:id=*`).join(' ')))).toBe(true);
      const others = (['read', 'trigger', 'clear'] as const).filter((a) => !actions.includes(a));
      if (others.length)
        expect(dagScopeWithin(scope, parseDagScope(others.map((a) => `dag:${a}:id=*`).join(' ')))).toBe(false);
    }
  });
});
