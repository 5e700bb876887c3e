import { AppError } from '@app/errors';
import { groupsFromProvider, normalizeGroups } from './names';

describe('groups as an administrator gives them (invites, admin API, both command lines)', () => {
  it('are stored trimmed, NFC, once each and sorted, case kept', () => {
    expect(normalizeGroups([' ops', 'ops\t', 'Ops', 'équipe'.normalize('NFD'), ''])).toEqual(['Ops', 'ops', 'équipe']);
  });

  it('a name the rule refuses is a clear 400, not silently changed', () => {
    for (const bad of ['airflow admins', 'ops\u0000', 'o\u200bps']) {
      expect(() => normalizeGroups(['ops', bad])).toThrow(AppError);
      expect(() => normalizeGroups([bad])).toThrow(/is not allowed: use letters, digits/);
    }
  });

  it('at most 64 groups', () => {
    expect(() => normalizeGroups(Array.from({ length: 65 }, (_, i) => `g${i}`))).toThrow(/at most 64 groups/);
  });
});

describe('groups as the ID token names them', () => {
  it('are the canonical names; refused names and non-strings are left out and counted', () => {
    expect(groupsFromProvider([' airflow-admins', 'it-viewers', 'it viewers', 5, null, 'airflow-admins'])).toEqual({
      groups: ['airflow-admins', 'it-viewers'],
      ignored: 3,
    });
  });

  it('a claim that is not a list is no groups', () => {
    expect(groupsFromProvider('airflow-admins')).toEqual({ groups: [], ignored: 0 });
    expect(groupsFromProvider(undefined)).toEqual({ groups: [], ignored: 0 });
  });

  it('what is left is what the account stores: normalising it again changes nothing', () => {
    const { groups } = groupsFromProvider(['\u3000ops ', 'Équipe'.normalize('NFD')]);
    expect(normalizeGroups(groups)).toEqual(groups);
  });
});
