import { normalizeScopes } from './scopes';

describe('normalizeScopes', () => {
  it('deduplicates and sorts known scopes; none is an empty list', () => {
    expect(normalizeScopes(['sessions:read', 'admin', ' admin '])).toEqual(['admin', 'sessions:read']);
    expect(normalizeScopes(undefined)).toEqual([]);
    expect(normalizeScopes([''])).toEqual([]);
  });

  it.each([['session:read'], ['ADMIN'], ['admin sessions:read'], ['*']])(
    'refuses the unknown scope %j instead of dropping it',
    (scope) => {
      expect(() => normalizeScopes(['admin', scope])).toThrow(/unknown scope/);
    },
  );
});
